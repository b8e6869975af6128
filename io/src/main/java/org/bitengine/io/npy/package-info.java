/**
 * NumPy {@code .npy} and {@code .npz} files, read and written exactly as numpy does, with no
 * dependency on the engine's tensor types.
 *
 * <ul>
 *   <li>{@link org.bitengine.io.npy.Npy}: one array per {@code .npy} file or stream;</li>
 *   <li>{@link org.bitengine.io.npy.NpzReader} / {@link org.bitengine.io.npy.NpzWriter}: archives of
 *       named arrays, read entry by entry so multi-GB checkpoints never sit in memory whole;</li>
 *   <li>{@link org.bitengine.io.npy.NpyArray}: dtype, shape and raw little-endian bytes, with typed
 *       accessors and factories;</li>
 *   <li>{@link org.bitengine.io.npy.NpyHeader}, {@link org.bitengine.io.npy.NpyDType}: what a
 *       header says.</li>
 * </ul>
 *
 * <p>Every failure a user can cause is an {@link org.bitengine.engine.BitEngineException} with a
 * one-line message naming the file (and npz key) and saying what to do. Writes go to a temporary
 * file that is renamed onto the target, so a crash never leaves half a file.
 */
package org.bitengine.io.npy;
