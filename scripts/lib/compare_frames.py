#!/usr/bin/python3
"""Are the frames received through PipeWire the retouched ones? The element's output depends on the stream's history
(face tracking, landmark and temporal smoothing), so each received frame is compared with the frame of the same
index (frame_index.py: written into the picture) of the same stream run offline, without and through beautify. For
every received frame: it differs from the original frame only inside the face (0 pixels outside the box of what
beautify changed offline), it is retouched (mean |diff| to the original over the retouched pixels at least half the
offline frame's), and it is the offline frame of its index up to MAX_MEAN of that retouch (PipeWire's transport and
the conversions are lossless here, so the two should match exactly). Exits 1 with the reason otherwise.

usage: compare_frames.py ORIGINAL_PATTERN OFFLINE_PATTERN RECEIVED.png...
  the patterns: printf patterns of the offline frames by index (orig-%05d.png, bty-%05d.png)."""
import sys

import numpy as np
from PIL import Image

import frame_index

MAX_MEAN = 0.05  # received vs offline of the same index, as a fraction of the retouch (mean |diff| to the original)


def load(p):
    return np.asarray(Image.open(p).convert("RGB")).astype(np.int16)


def main():
    original, offline, received = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not received:
        sys.exit("FAIL: no frames received")
    fails = []
    for i, path in enumerate(received):
        recv = load(path)
        n = frame_index.read(recv)
        if n is None:
            sys.exit(f"FAIL: received frame {i} ({path}) carries no frame index")
        orig, exp = load(original % n), load(offline % n)
        if not (orig.shape == exp.shape == recv.shape):
            sys.exit(f"sizes differ: {orig.shape} {exp.shape} {recv.shape}")
        retouched = np.abs(exp - orig).max(axis=2) > 0  # where beautify acted offline on frame n
        ys, xs = np.nonzero(retouched)
        if len(ys) < 1000:
            sys.exit(f"beautify changed only {len(ys)} pixels of offline frame {n}: no face found?")
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        outside = np.abs(recv - orig).max(axis=2) > 0
        outside[box[1]:box[3], box[0]:box[2]] = False
        retouch = np.abs(exp - orig)[retouched].mean()
        vs_orig = np.abs(recv - orig)[retouched].mean()
        vs_exp = np.abs(recv - exp)[retouched].mean()
        print(f"frame {i} (index {n}): retouched offline {len(ys)} px in {box}, mean |diff| {retouch:.3f}; "
              f"received vs original {vs_orig:.3f}, vs offline frame {n} {vs_exp:.4f} (max "
              f"{np.abs(recv - exp).max()}); changed outside the face: {outside.sum()}")
        if outside.sum():
            fails.append(f"frame {i}: {outside.sum()} pixels changed outside the face")
        if vs_orig < 0.5 * retouch:
            fails.append(f"frame {i}: not retouched ({vs_orig:.3f} vs {retouch:.3f} offline)")
        if vs_exp > MAX_MEAN * retouch:
            fails.append(f"frame {i}: not offline frame {n} ({vs_exp:.4f} > {MAX_MEAN} x {retouch:.3f})")
    if fails:
        sys.exit("FAIL: " + "; ".join(fails))
    print(f"PASS: {len(received)} frames received through the PipeWire node, each the retouched frame of its index")


if __name__ == "__main__":
    main()
