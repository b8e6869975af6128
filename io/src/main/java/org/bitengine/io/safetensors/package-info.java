/**
 * Pure-Java reader and writer of the safetensors format:
 * {@link org.bitengine.io.safetensors.SafeTensors}.
 */
package org.bitengine.io.safetensors;
