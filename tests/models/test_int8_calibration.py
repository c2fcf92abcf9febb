#!/usr/bin/env python3
"""int8 calibration (models/beautynet/calibrate_int8.py, format version 3): which convs are calibrated (the engine's
int8_applies rule: ReLU inputs, so never the net input's conv), the per-channel maxima survive the .bmodel round trip
exactly next to unchanged weights, an uncalibrated file reads as None, and snapped weights lie on the int8 grid
(re-quantising them gives back integers) also for the C++ loader (ModelInfo::int8_on_grid, through bty-bench), and
a file fine-tuned onto its grid (train.py --qat) is refused; the benchmark's own reader (tests/bench) reads the same
maxima, and its ncnn int8 export carries one weight scale per output channel and one input scale per conv."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

import _paths  # noqa: F401
from beautynet import arch, bmodel, nets
from beautynet.int8 import int8_eligible, on_grid, snap_weights

sys.path.insert(0, os.path.join(_paths.ROOT, "tests", "bench"))
import bmodel_reader  # noqa: E402
import export_ncnn  # noqa: E402


def bench_reader_agrees(path, maxima):
    """tests/bench's reader (written from the spec, not from bmodel.py) gives the written maxima back, and the ncnn
    int8 export adds 8=2 and (out_channels + 1) scales to every conv."""
    r = bmodel_reader.read(path)
    convs = [l for l in r.layers if l.op == bmodel_reader.CONV]
    same = all((x is None and l.input_max is None) or (x is not None and l.input_max is not None
                                                       and np.array_equal(x, l.input_max))
               for x, l in zip(maxima, convs))
    text, blob = export_ncnn.build(r)
    text8, blob8 = export_ncnn.build(r, input_max=[1.0] * len(convs))
    return (same and len(convs) == len(maxima) and text8.count(" 8=2") == len(convs)
            and len(blob8) - len(blob) == 4 * sum(l.out_channels + 1 for l in convs))


def check_refuses_grid_file():
    """calibrate_int8.py leaves a file fine-tuned onto its int8 grid alone (new maxima would move the grid off its
    weights) and says so, before it looks for the calibration data."""
    src = os.path.join(_paths.ROOT, "models", "checkpoints", "study", "beautify-m-qat.bmodel")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "m.bmodel")
        shutil.copy(src, path)
        r = subprocess.run([sys.executable, os.path.join(_paths.ROOT, "models", "beautynet", "calibrate_int8.py"), path,
                            "--data", os.path.join(d, "missing.npz")], capture_output=True, text=True)
        with open(src, "rb") as a, open(path, "rb") as b:
            same = a.read() == b.read()
    good = r.returncode != 0 and "fine-tuned onto its int8 grid" in r.stderr and same
    print("%s grid-trained file: calibrate_int8.py refuses it, file unchanged" % ("ok  " if good else "FAIL"))
    return good


def engine_on_grid(bty_bench, path):
    """What the C++ loader says of a file (ModelInfo::int8_on_grid, through bty-bench's JSON)."""
    r = subprocess.run([bty_bench, "-m", path, "--reps", "1", "--warmup", "0"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("bty-bench failed (%d): %s" % (r.returncode, r.stderr.strip()))
    return json.loads(r.stdout)["int8_on_grid"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bty-bench", required=True)
    a = ap.parse_args()
    ok = True
    for name, tier in arch.TIERS.items():
        elig = int8_eligible(tier.layers)
        if elig[0] or not all(elig[1:]):
            print("FAIL %s: eligible convs %s (want all but the first)" % (name, elig))
            ok = False
        net = nets.BeautyNet(tier, deploy=True)
        ws = [(w.numpy().astype(np.float32), b.numpy().astype(np.float32)) for w, b in net.folded_weights()]
        rng = np.random.default_rng(5)
        maxima = [None if not e else rng.uniform(0, 20, w.shape[1]).astype(np.float32) for e, (w, _) in zip(elig, ws)]
        maxima[1][0] = 0.0  # a channel that never fired
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.bmodel")
            bmodel.write(path, name, tier.width, tier.height, tier.layers, ws, arch.INPUT_SCALE, arch.INPUT_BIAS,
                         arch.OUTPUT_SCALE, input_max=maxima)
            m = bmodel.read(path)
            same = m["version"] == 3 and m["input_max"][0] is None and all(
                np.array_equal(a, b) for a, b in zip(maxima[1:], m["input_max"][1:])) and all(
                np.array_equal(a[0], b[0]) for a, b in zip(ws, m["weights"])) and bench_reader_agrees(path, maxima)
            # the Python grid and the C++ loader's rule agree: float weights off it, snapped ones on it
            agree = not engine_on_grid(a.bty_bench, path)
            bmodel.write(path, name, tier.width, tier.height, tier.layers, snap_weights(ws, maxima), arch.INPUT_SCALE,
                         arch.INPUT_BIAS, arch.OUTPUT_SCALE, input_max=maxima)
            agree = agree and engine_on_grid(a.bty_bench, path)
            bmodel.write(path, name, tier.width, tier.height, tier.layers, ws, arch.INPUT_SCALE, arch.INPUT_BIAS,
                         arch.OUTPUT_SCALE)
            same = same and bmodel.read(path)["input_max"] is None
        if not same:
            print("FAIL %s: calibration or weights changed in the round trip" % name)
            ok = False
        if not agree:
            print("FAIL %s: the engine's int8_on_grid disagrees with snap_weights' grid" % name)
            ok = False
        if not on_grid(snap_weights(ws, maxima), maxima) or on_grid(ws, maxima):
            print("FAIL %s: snapped weights off the int8 grid, or random ones on it" % name)
            ok = False
        print("%s: %d of %d convs calibrated, round trip, grid and the engine's grid check ok" % (name, sum(elig),
                                                                                                  len(elig)))
    ok &= check_refuses_grid_file()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
