"""Writes the PIL reference outputs used by ResizeTest and ImageDecoderTest.

Run from this folder with a Python that has Pillow (Debian: apt-get install python3-pil;
/usr/bin/python3 make_pil_fixtures.py). Only the standard library and PIL are used.
Files are raw 8-bit RGB, row-major [h, w, 3], sizes in the names.
"""
from PIL import Image, ImageOps

H, W = 13, 17
state = 12345
src = bytearray()
for _ in range(H * W * 3):
    state = (state * 1103515245 + 12345) % 2**31  # a fixed LCG: the Java test rebuilds the same bytes
    src.append((state >> 16) & 0xFF)
open(f"src_{H}x{W}.rgb", "wb").write(src)
im = Image.frombytes("RGB", (W, H), bytes(src))
for (h, w) in [(5, 7), (20, 30), (13, 9), (31, 4), (1, 1), (6, 17), (13, 8), (3, 4), (13, 17)]:
    out = im.resize((w, h), Image.BILINEAR)  # what torchvision's Resize((h, w)) runs on a PIL image
    open(f"bilinear_{h}x{w}.rgb", "wb").write(out.tobytes())

# How PIL decodes the image folder fixtures (torchvision's loader: Image.open(f).convert("RGB")).
for name, path in [("a_photo", "../folder/dog/a_photo.jpg"), ("x_grey", "../folder/bird/sub/x_grey.JPEG"),
                   ("a_rgb", "../folder/cat/a_rgb.png"), ("c_rgba", "../folder/cat/c_rgba.PNG"),
                   ("d_palette", "../folder/dog/d_palette.png")]:
    rgb = Image.open(path).convert("RGB")
    open(f"decoded_{name}_{rgb.size[1]}x{rgb.size[0]}.rgb", "wb").write(rgb.tobytes())
# ... and with the EXIF orientation applied (what bit-engine does on top of torchvision).
for o in range(2, 9):
    rgb = ImageOps.exif_transpose(Image.open(f"../exif/orient{o}.jpg")).convert("RGB")
    open(f"decoded_orient{o}_{rgb.size[1]}x{rgb.size[0]}.rgb", "wb").write(rgb.tobytes())
