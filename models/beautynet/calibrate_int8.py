"""int8 calibration of a .bmodel (issue 9): the maximum of every conv input channel over real face crops, written
into the file (format version 3, docs/model-format.md), from which the engine's Precision::Int8 quantises each
conv's input to 0..255 per channel.

The crops are the training set's real faces (prepare_data.py's npz, train and validation) through the training
pipeline's own augmentation and synthetic blemishes (synth.make_batch: exposure, white balance, skin-tone tints,
uneven light, noise, JPEG), at the tier's input size: what the element feeds the net, plus the range a camera adds.
The maximum, not a percentile: an input above it saturates at 255, and the quality bound (tests/engine) is checked
on real faces with these scales.

    /usr/bin/python3 models/beautynet/calibrate_int8.py models/beautify-{s,m,l}.bmodel --data .devdata/faces.npz
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from beautynet import bmodel, int8, nets, synth  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help=".bmodel files, rewritten in place with their calibration")
    ap.add_argument("--data", default=".devdata/faces.npz", help="prepare_data.py's npz")
    ap.add_argument("--batches", type=int, default=int8.BATCHES)
    ap.add_argument("--quantile", type=float, default=1.0, help="per channel, of the positive values (1: maximum)")
    ap.add_argument("--snap-weights", action="store_true", help="also round the weights onto the int8 grid")
    ap.add_argument("--force", action="store_true", help="recalibrate a file already on its int8 grid (train.py --qat)")
    args = ap.parse_args()
    for path in args.models:
        m = bmodel.read(path)
        if m["input_max"] is not None and int8.on_grid(m["weights"], m["input_max"]) and not args.force:
            sys.exit("calibrate_int8: %s was fine-tuned onto its int8 grid (train.py --qat); new maxima would move the "
                     "grid off its weights. Keep its calibration, or pass --force to recalibrate anyway" % path)
    if not os.path.exists(args.data):
        sys.exit("calibrate_int8: %s not found (run models/beautynet/prepare_data.py first)" % args.data)
    torch.manual_seed(int8.SEED)
    data = synth.load_faces(args.data, "cpu")
    for path in args.models:
        m = bmodel.read(path)
        maxima = int8.calibrate(nets.load_bmodel(path), data, args.batches, quantile=args.quantile)
        weights = int8.snap_weights(m["weights"], maxima) if args.snap_weights else m["weights"]
        bmodel.write(path, m["tier"], m["width"], m["height"], m["layers"], weights, m["input_scale"],
                     m["input_bias"], m["output_scale"], m["colour"], m["output_kind"], m["shuffle"], m["crop"],
                     input_max=maxima)
        again = bmodel.read(path)
        assert all(np.array_equal(a[0], b[0]) for a, b in zip(weights, again["weights"])), "weights changed"
        print("%s: %d convs calibrated on %d crops; input maxima per conv (max over channels): %s" % (
            path, len(maxima), args.batches * int8.BATCH, " ".join("-" if x is None else "%.2f" % float(x.max())
                                                              for x in maxima)))


if __name__ == "__main__":
    main()
