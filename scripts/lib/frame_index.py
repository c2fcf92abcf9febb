#!/usr/bin/python3
"""A frame index written into the picture: PipeWire (0.3.65) does not carry a buffer's offset or timestamp to the
consumer, so scripts/check-pipewire's camera clip says which frame each one is in 12 blocks of 8x8 luma along the
bottom-left edge (bit 0 first, white = 1), far from the face. write: a raw I420 clip of FRAMES copies of STILL (one
raw I420 frame), each with its index. count: how many clip frames cover the given frames (their largest index + 1).
Importable: read(rgb) gives the index back from an RGB frame.

usage: frame_index.py write STILL.i420 WIDTH HEIGHT FRAMES CLIP.i420
       frame_index.py count FRAME.png..."""
import sys

import numpy as np

BITS, BLOCK, X0 = 12, 8, 8  # up to 4096 frames (over two minutes at 30 fps)


def _row(height):
    return height - 2 * BLOCK  # top of the blocks: one block up from the bottom edge


def write(still, width, height, frames, clip):
    frame = np.fromfile(still, np.uint8)
    if frame.size != width * height * 3 // 2:
        sys.exit(f"{still}: {frame.size} bytes, not one {width}x{height} I420 frame")
    if frames > 1 << BITS:
        sys.exit(f"at most {1 << BITS} frames")
    y0 = _row(height)
    with open(clip, "wb") as out:
        for n in range(frames):
            luma = frame[:width * height].reshape(height, width)
            for b in range(BITS):
                luma[y0:y0 + BLOCK, X0 + b * BLOCK:X0 + (b + 1) * BLOCK] = 235 if (n >> b) & 1 else 16
            out.write(frame.tobytes())


def read(rgb):
    """The index in an RGB frame (H x W x 3), or None when the blocks are not clearly black or white."""
    y0 = _row(rgb.shape[0])
    n = 0
    for b in range(BITS):
        v = int(rgb[y0 + BLOCK // 2, X0 + b * BLOCK + BLOCK // 2, 1])
        if 64 <= v <= 192:
            return None
        n |= (v > 192) << b
    return n


def count(paths):
    from PIL import Image
    indices = [read(np.asarray(Image.open(p).convert("RGB"))) for p in paths]
    missing = [p for p, n in zip(paths, indices) if n is None]
    if missing or not paths:
        sys.exit(f"no frame index in {', '.join(missing) or 'no frames'}")
    return max(indices) + 1


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif len(sys.argv) > 2 and sys.argv[1] == "count":
        print(count(sys.argv[2:]))
    else:
        sys.exit(__doc__)
