#!/usr/bin/python3
"""Renders the OBS test's clip, which OBS's media source plays through libavformat without a lossy codec: the
public-domain official Obama portrait (tests/gst/data), panning slowly, and each frame's index as a 16-bit code of
16x16 black/white blocks along the top-left edge, far from the face, so the test can pair a filtered frame with the
unfiltered one of the same index. BT.601 limited range. --format i420: a YUV4MPEG2 file (OBS gets I420 frames);
yuy2: raw packed 4:2:2 in AVI (muxed by GStreamer's avimux; OBS gets YUY2 frames, as from most webcams).

usage: render_face_clip.py OUT [--format i420|yuy2 --width 640 --height 360 --fps 30 --frames 60]
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
PORTRAIT = os.path.join(HERE, "..", "gst", "data", "obama-colour.jpg")
CODE_BITS, CODE_BLOCK, CODE_Y = 16, 16, 8  # tests/obs/obs_filter_test.cpp reads the same layout


def to_yuv(rgb, rows):
    """BT.601 limited range; chroma averaged over 2x`rows` blocks (2: 4:2:0, 1: 4:2:2)."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    cb = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    cr = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    sub = lambda c: c.reshape(c.shape[0] // rows, rows, c.shape[1] // 2, 2).mean(axis=(1, 3))
    q = lambda c: np.clip(np.round(c), 0, 255).astype(np.uint8)
    return q(y), q(sub(cb)), q(sub(cr))


def yuy2(y, u, v):
    """Packed 4:2:2 bytes Y0 U Y1 V."""
    out = np.empty((y.shape[0], y.shape[1] * 2), np.uint8)
    out[:, 0::4], out[:, 1::4], out[:, 2::4], out[:, 3::4] = y[:, 0::2], u, y[:, 1::2], v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--format", choices=("i420", "yuy2"), default="i420")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--frames", type=int, default=60)
    a = ap.parse_args()
    W, H = a.width, a.height
    img = Image.open(PORTRAIT).convert("RGB")
    mw, mh = img.size
    packed = a.format == "yuy2"
    if packed:  # the raw frames, muxed below
        fd, raw = tempfile.mkstemp(suffix=".yuy2")
        os.close(fd)
    with open(raw if packed else a.out, "wb") as out:
        if not packed:
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
            if packed:
                out.write(yuy2(*to_yuv(frame, 1)).tobytes())
            else:
                out.write(b"FRAME\n")
                for p in to_yuv(frame, 2):
                    out.write(p.tobytes())
    if packed:
        try:
            subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={raw}", "!", "rawvideoparse",
                            "format=yuy2", f"width={W}", f"height={H}", f"framerate={a.fps}/1", "!", "avimux", "!",
                            "filesink", f"location={a.out}"], check=True)
        finally:
            os.unlink(raw)
    print(a.frames)


if __name__ == "__main__":
    main()
