/**
 * Keras weight files (HDF5) read in pure Java through jhdf: the TF-Keras {@code .h5} layout and the
 * Keras 3 {@code .weights.h5} layout. Arrays are returned as stored (HWIO kernels, depthwise
 * {@code (k,k,C,1)}, Dense {@code (in,out)}); what they mean is decided by the model mappings in the
 * models module.
 */
package org.bitengine.io.keras;
