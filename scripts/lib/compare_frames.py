#!/usr/bin/python3
"""Is RECEIVED the retouched frame? Compares it with ORIGINAL (no beautify) and EXPECTED (beautify offline):
received must differ from the original (inside a face-sized region only) and match the expected frame up to the
PipeWire path's own conversions. Exits 1 with the reason otherwise.

usage: compare_frames.py ORIGINAL.png EXPECTED.png RECEIVED.png"""
import sys

import numpy as np
from PIL import Image


def load(p):
    return np.asarray(Image.open(p).convert("RGB")).astype(np.int16)


def main():
    orig, exp, recv = (load(p) for p in sys.argv[1:4])
    if not (orig.shape == exp.shape == recv.shape):
        sys.exit(f"sizes differ: {orig.shape} {exp.shape} {recv.shape}")
    retouched = np.abs(exp - orig).max(axis=2) > 0  # where beautify acted (offline)
    changed = np.abs(recv - orig).max(axis=2) > 0   # where the received frame differs from the original
    ys, xs = np.nonzero(retouched)
    if len(ys) < 1000:
        sys.exit(f"beautify changed only {len(ys)} pixels offline: no face found?")
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    outside = changed.copy()
    outside[box[1]:box[3], box[0]:box[2]] = False
    vs_orig = np.abs(recv - orig)[retouched].mean()
    vs_exp = np.abs(recv - exp)[retouched].mean()
    print(f"pixels retouched offline: {len(ys)} in box {box}")
    print(f"received vs original, inside: mean |diff| {vs_orig:.3f}; pixels changed outside the box: {outside.sum()}")
    print(f"received vs offline beautify, inside: mean |diff| {vs_exp:.3f}; max {np.abs(recv - exp).max()}")
    if outside.sum():
        sys.exit("FAIL: the received frame differs from the original outside the face")
    if not vs_exp < 0.25 * vs_orig:
        sys.exit("FAIL: the received frame is not the retouched one")
    print("PASS: the PipeWire node carries the retouched frames")


if __name__ == "__main__":
    main()
