#!/usr/bin/env python3
"""Builds samples/fashion-mnist-small from the Fashion-MNIST idx files.

usage: python3 make_sample.py [IDX_FOLDER]   (default /usr/share/datasets/fashion-mnist, where
Debian's dataset-fashion-mnist package installs them)

Takes, in file order, the first 300 images of each class of the training set and the first 100 of
each class of the test set, and writes each as an 8-bit greyscale 28x28 PNG named after its index
in the original file: train/<class>/<index>.png, test/<class>/<index>.png. Standard library only;
the output is the same bytes on every run.
"""
import gzip
import os
import shutil
import struct
import sys
import zlib

SRC = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
OUT = os.path.dirname(os.path.abspath(__file__))
# Fashion-MNIST's class names by label, with '/' and ' ' replaced to make folder names.
NAMES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]


def read_idx(path, magic):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    got, = struct.unpack(">I", data[:4])
    if got != magic:
        sys.exit(f"{path}: magic {got:#x}, expected {magic:#x}")
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def find(prefix, kind):
    for name in (f"{prefix}-{kind}-ubyte", f"{prefix}-{kind}-ubyte.gz"):
        path = os.path.join(SRC, name)
        if os.path.exists(path):
            return path
    sys.exit(f"{SRC}: no {prefix}-{kind}-ubyte[.gz]")


def png_grey(width, height, pixels):
    """An 8-bit greyscale PNG; each row filtered with the 'Up' filter when that compresses better."""
    rows = []
    previous = bytes(width)
    for y in range(height):
        row = pixels[y * width:(y + 1) * width]
        up = bytes((row[x] - previous[x]) & 0xFF for x in range(width))
        rows.append(b"\x00" + row if sum(min(b, 256 - b) for b in row) <= sum(min(b, 256 - b) for b in up)
                    else b"\x02" + up)
        previous = row

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


for split, prefix, per_class in (("train", "train", 300), ("test", "t10k", 100)):
    (n, rows, cols), pixels = read_idx(find(prefix, "images-idx3"), 0x803)
    (n_labels,), labels = read_idx(find(prefix, "labels-idx1"), 0x801)
    assert n == n_labels, (n, n_labels)
    shutil.rmtree(os.path.join(OUT, split), ignore_errors=True)
    counts = [0] * len(NAMES)
    for i in range(n):
        label = labels[i]
        if counts[label] == per_class:
            continue
        folder = os.path.join(OUT, split, NAMES[label])
        os.makedirs(folder, exist_ok=True)
        image = pixels[i * rows * cols:(i + 1) * rows * cols]
        with open(os.path.join(folder, f"{i:05d}.png"), "wb") as f:
            f.write(png_grey(cols, rows, image))
        counts[label] += 1
        if min(counts) == per_class:
            break
    print(split, counts)
