#!/usr/bin/env python3
"""The flicker measure of scripts/eval-temporal (models/beautynet/flicker.py pair_metrics) on synthetic frame pairs
whose answer is known: a textured frame moved by a whole-pixel shift, and a retouch layer that
- moves with it unchanged: the ratio stays near the quantisation floor and the absolute change near 0;
- moves with it at half strength: the ratio is ~1 (the change equals the new layer) and the absolute change is half
  the first layer's sum per frame pixel;
- does the same on top of a steady uniform lift of 2 code values: the same absolute change, a smaller ratio (the
  ratio's blind spot that `change_abs` is there for).
Needs python3-opencv (the flow); skips without it."""
import sys
import types

import numpy as np

import _paths  # noqa: F401

try:
    import cv2
except ImportError:
    print("python3-opencv not installed: skipped")
    sys.exit(77)
from beautynet import flicker

H = W = 160
SHIFT = (2, 1)  # dx, dy in pixels between the two frames


def frames():
    rng = np.random.default_rng(3)
    big = rng.normal(0, 1, (H + 16, W + 16, 3)).astype(np.float32)
    big = cv2.GaussianBlur(big, (0, 0), 1.5) * 40 + 128  # texture the flow can lock on
    dx, dy = SHIFT
    in0 = np.clip(big[8:8 + H, 8:8 + W], 0, 255).round().astype(np.uint8)
    in1 = np.clip(big[8 - dy:8 - dy + H, 8 - dx:8 - dx + W], 0, 255).round().astype(np.uint8)  # content moves +dx, +dy
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    disc = lambda cx, cy: ((xx - cx) ** 2 + (yy - cy) ** 2 < 40 ** 2).astype(np.float32)  # noqa: E731
    lay0 = 6.0 * disc(80, 80)[..., None] * np.array([1.0, 0.5, -0.5], np.float32)
    lay1 = 6.0 * disc(80 + dx, 80 + dy)[..., None] * np.array([1.0, 0.5, -0.5], np.float32)
    lift0, lift1 = 2.0 * disc(80, 80)[..., None], 2.0 * disc(80 + dx, 80 + dy)[..., None]
    return in0, in1, lay0, lay1, lift0, lift1


def apply(img, layer):
    return np.clip(img.astype(np.float32) + layer, 0, 255).round().astype(np.uint8)


def main():
    args = types.SimpleNamespace(border=8, fb_max=1.0, min_pixels=200)
    in0, in1, lay0, lay1, lift0, lift1 = frames()
    same = flicker.pair_metrics(in0, apply(in0, lay0), in1, apply(in1, lay1), args)
    half = flicker.pair_metrics(in0, apply(in0, lay0), in1, apply(in1, 0.5 * lay1), args)
    lifted = flicker.pair_metrics(in0, apply(in0, lift0 + lay0), in1, apply(in1, lift1 + 0.5 * lay1), args)
    want = 0.5 * np.abs(lay0).sum() / (H * W)  # the half that went, per frame pixel
    ok = True

    def check(name, good, text):
        nonlocal ok
        ok &= bool(good)
        print("%s %s: %s" % ("ok  " if good else "FAIL", name, text))

    check("layer moving with the frame", same["flicker"] < 0.1 and same["change_abs"] < 0.1 * want,
          "ratio %.3f, change %.4f (the half-strength case's %.4f)" % (same["flicker"], same["change_abs"], want))
    check("layer at half strength", 0.85 < half["flicker"] < 1.15 and abs(half["change_abs"] / want - 1) < 0.15,
          "ratio %.3f (1), change %.4f (%.4f)" % (half["flicker"], half["change_abs"], want))
    check("the same on a steady lift", abs(lifted["change_abs"] / half["change_abs"] - 1) < 0.1
          and lifted["flicker"] < 0.75 * half["flicker"],
          "ratio %.3f (without the lift %.3f), change %.4f (%.4f)" % (lifted["flicker"], half["flicker"],
                                                                    lifted["change_abs"], half["change_abs"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
