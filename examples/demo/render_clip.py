#!/usr/bin/python3
"""Renders the demo clip from public-domain portraits (official Obama and Biden portraits, US government works):
a slow pan and zoom over one portrait, a second face sliding in, so the element has to find, track and retouch two
moving faces. Writes PNG frames (frame 0000.png ...) for multifilesrc.

usage: render_clip.py OUT_DIR [--width 1280 --height 720 --fps 30 --seconds 6]
"""
import argparse
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "gst", "data")


def smooth(t):  # 0..1 ease in/out
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=6.0)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    W, H = a.width, a.height
    main_img = Image.open(os.path.join(DATA, "obama-colour.jpg")).convert("RGB")
    second = Image.open(os.path.join(DATA, "biden-colour.jpg")).convert("RGB")
    second = second.crop((0, 0, second.width, int(second.height * 0.45)))  # head and shoulders
    mw, mh = main_img.size
    n = int(round(a.seconds * a.fps))
    for i in range(n):
        t = i / max(1, n - 1)
        # Camera: zoom 1.0 -> 1.45 towards the face (upper middle), with a sideways drift.
        z = 1.0 + 0.45 * smooth(t / 0.8)
        cw, ch = mw / z, mh / z
        cx = mw * (0.5 - 0.06 * np.sin(2 * np.pi * t))
        cy = mh * (0.5 - 0.12 * smooth(t / 0.8))
        x0 = min(max(cx - cw / 2, 0), mw - cw)
        y0 = min(max(cy - ch / 2, 0), mh - ch)
        frame = main_img.resize((W, H), Image.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
        # Second face: slides in from the right after 1.5 s, bobbing a little.
        sh = int(H * 0.62)
        sw = int(second.width * sh / second.height)
        s = second.resize((sw, sh), Image.BILINEAR)
        enter = smooth((i / a.fps - 1.5) / 1.0)
        if enter > 0:
            x = int(W - enter * (sw + W * 0.04))
            y = int(H - sh + 12 * np.sin(2 * np.pi * i / (a.fps * 2.5)))
            frame.paste(s, (x, y))
        frame.save(os.path.join(a.out, "%04d.png" % i), compress_level=1)
    print(n)


if __name__ == "__main__":
    main()
