#!/usr/bin/python3
"""Composes before-after.png: the whole frame before | after (half size) on top, and below, 2x crops of the retouched
region (the bounding box of the pixels the element changed) before | after.

usage: before_after.py BEFORE.png AFTER.png OUT.png
"""
import sys

import numpy as np
from PIL import Image, ImageDraw


def main():
    before = np.asarray(Image.open(sys.argv[1]).convert("RGB"))
    after = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
    h, w, _ = before.shape
    changed = np.abs(before.astype(int) - after.astype(int)).sum(2) > 0
    top = np.concatenate([before, after], 1)
    top = Image.fromarray(top).resize((w, h // 2), Image.LANCZOS)
    rows = [top]
    if changed.any():
        ys, xs = np.nonzero(changed)
        # The largest face: the densest column band of changes.
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        cols = changed.sum(0)
        if x1 - x0 > w // 2:  # two faces apart: crop around the column with most changes
            c = int(np.argmax(np.convolve(cols, np.ones(64), "same")))
            x0, x1 = max(0, c - h // 3), min(w, c + h // 3)
            sub = changed[:, x0:x1]
            ys = np.nonzero(sub.any(1))[0]
            y0, y1 = ys.min(), ys.max() + 1
        crop = (int(x0), int(y0), int(x1), int(y1))
        b = Image.fromarray(before).crop(crop)
        a = Image.fromarray(after).crop(crop)
        scale = min(2.0, (w / 2) / b.width, 1.2 * h / b.height)
        size = (max(1, int(b.width * scale)), max(1, int(b.height * scale)))
        pair = Image.new("RGB", (w, size[1]), (20, 20, 20))
        pair.paste(b.resize(size, Image.LANCZOS), (w // 2 - size[0], 0))
        pair.paste(a.resize(size, Image.LANCZOS), (w // 2, 0))
        rows.append(pair)
    out = Image.new("RGB", (w, sum(r.height for r in rows) + 28), (20, 20, 20))
    y = 0
    for r in rows:
        out.paste(r, (0, y))
        y += r.height
    d = ImageDraw.Draw(out)
    d.text((10, y + 8), "before (left) | after (right); unchanged outside the skin masks, bit for bit", fill=(230, 230, 230))
    out.save(sys.argv[3])


if __name__ == "__main__":
    main()
