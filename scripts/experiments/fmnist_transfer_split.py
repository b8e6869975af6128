#!/usr/bin/env python3
"""Splits Fashion-MNIST into a source task and a transfer target for the EfficientNet fine-tuning
experiment (docs/efficientnet-fmnist-transfer.md). No pretrained EfficientNet can be downloaded here, so
the "pretrained" backbone is trained by bit-engine itself on the source task, then fine-tuned the Keras
way on the target task, whose classes it has never seen.

  source: classes 0-4 (T-shirt/top, Trouser, Pullover, Dress, Coat), all 30 000 training images
  target: classes 5-9 (Sandal, Shirt, Sneaker, Bag, Ankle boot), PER_CLASS training images each,
          labels renumbered 0-4; the test images of those classes for evaluation

Input: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). Output: .npz files with
x uint8 (N, 28, 28, 1) and y int64 (N,), the layout `finetune --data` reads.

usage: fmnist_transfer_split.py OUT_DIR [PER_CLASS]
"""
import gzip
import os
import sys

import numpy as np

SRC = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    with gzip.open(os.path.join(SRC, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    out = sys.argv[1]
    per_class = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    os.makedirs(out, exist_ok=True)
    xtr, ytr = read_idx("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz")
    xte, yte = read_idx("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(0)

    def save(name, x, y):
        np.savez(os.path.join(out, name), x=x[..., None], y=y.astype(np.int64))
        print(f"{name}: {len(y)} images, classes {sorted(set(y.tolist()))}")

    src = ytr < 5
    save("source_train.npz", xtr[src], ytr[src])
    save("source_test.npz", xte[yte < 5], yte[yte < 5])
    keep = np.concatenate([rng.permutation(np.flatnonzero(ytr == c))[:per_class] for c in range(5, 10)])
    keep.sort()
    save("target_train.npz", xtr[keep], ytr[keep] - 5)
    save("target_test.npz", xte[yte >= 5], yte[yte >= 5] - 5)


if __name__ == "__main__":
    main()
