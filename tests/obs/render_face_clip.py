#!/usr/bin/python3
"""Renders the OBS test's clip as a YUV4MPEG2 file (I420, BT.601 limited range), which OBS's media source plays
through libavformat without a lossy codec: the public-domain official Obama portrait (tests/gst/data), panning
slowly, and each frame's index as a 16-bit code of 16x16 black/white blocks along the top-left edge, far from the
face, so the test can pair a filtered frame with the unfiltered one of the same index.

usage: render_face_clip.py OUT.y4m [--width 640 --height 360 --fps 30 --frames 60]
"""
import argparse
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PORTRAIT = os.path.join(HERE, "..", "gst", "data", "obama-colour.jpg")
CODE_BITS, CODE_BLOCK, CODE_Y = 16, 16, 8  # tests/obs/obs_filter_test.cpp reads the same layout


def to_i420(rgb):
    """BT.601 limited range, chroma averaged over 2x2 blocks."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    sub = lambda c: c.reshape(c.shape[0] // 2, 2, c.shape[1] // 2, 2).mean(axis=(1, 3))
    q = lambda c: np.clip(np.round(c), 0, 255).astype(np.uint8)
    return q(y), q(sub(cb)), q(sub(cr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    W, H = a.width, a.height
    img = Image.open(PORTRAIT).convert("RGB")
    mw, mh = img.size
    with open(a.out, "wb") as out:
        out.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (W, H, a.fps))
        for i in range(a.frames):
            t = i / max(1, a.frames - 1)
            # A 0.8-wide window of the portrait drifting sideways and back: the face moves up to 2 px a frame.
            cw, ch = mw * 0.8, mh * 0.8
            x0 = (mw - cw) * (0.5 + 0.15 * np.sin(2 * np.pi * t))
            y0 = (mh - ch) * 0.3
            frame = np.asarray(img.resize((W, H), Image.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))).copy()
            for bit in range(CODE_BITS):
                x = 8 + bit * CODE_BLOCK
                frame[CODE_Y:CODE_Y + CODE_BLOCK, x:x + CODE_BLOCK] = 255 if (i >> bit) & 1 else 0
            y, u, v = to_i420(frame)
            out.write(b"FRAME\n")
            for p in (y, u, v):
                out.write(p.tobytes())
    print(a.frames)


if __name__ == "__main__":
    main()
