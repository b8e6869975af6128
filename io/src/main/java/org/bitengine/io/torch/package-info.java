/**
 * Pure-Java reader of PyTorch state dicts ({@code .pth}/{@code .pt}) in the zip format that
 * {@code torch.save} writes since torch 1.6: {@link org.bitengine.io.torch.TorchStateDict}.
 */
package org.bitengine.io.torch;
