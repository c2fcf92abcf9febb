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
from beautynet import arch, bmodel, nets, synth  # noqa: E402
from beautynet.arch import CONV, UPSAMPLE  # noqa: E402

SEED = 20261204
BATCHES, BATCH = 24, 16  # 384 augmented crops


def calibrate(path, data, batches=BATCHES, batch=BATCH, seed=SEED, quantile=1.0):
    """Per conv (in file order) the per-channel maximum (or `quantile` of the values above 0) of its input over the
    calibration crops."""
    net = nets.load_bmodel(path)
    t = net.tier
    maxima = [None] * len(net.convs)
    g = torch.Generator().manual_seed(seed)

    def hook(i):
        def f(_mod, inp):
            x = inp[0].detach().transpose(0, 1).reshape(inp[0].shape[1], -1)
            if quantile < 1.0:
                keep = x[:, torch.randperm(x.shape[1], generator=g)[:200000]]
                m = torch.stack([torch.quantile(c[c > 0], quantile) if (c > 0).any() else c.max() for c in keep])
            else:
                m = x.amax(dim=1)
            m = m.double().numpy()
            maxima[i] = m if maxima[i] is None else np.maximum(maxima[i], m)
        return f

    handles = [c.register_forward_pre_hook(hook(i)) for i, c in enumerate(net.convs)]
    n = data["img"].shape[0]
    with torch.no_grad():
        for _ in range(batches):
            idx = torch.randint(0, n, (batch,), generator=g)
            b = synth.make_batch(data, idx, g, (t.height, t.width), strong=True)
            net(nets.to_net(b["x"]))
    for h in handles:
        h.remove()
    return [np.maximum(m, 0.0).astype(np.float32) for m in maxima]


def int8_eligible(layers):
    """Per conv (file order): whether the engine runs it in int8 when calibrated (kernels.h, int8_applies): every
    tensor its input resolves to (through upsamples and concats) is a ReLU conv's output."""
    def relu_sources(t):
        if t == 0:
            return False
        l = layers[t - 1]
        if l.op == CONV:
            return l.act == arch.ACT_RELU
        return relu_sources(l.a) and (l.op == UPSAMPLE or relu_sources(l.b))
    return [relu_sources(l.a) for l in layers if l.op == CONV]


def snap_weights(weights, maxima):
    """The weights on the engine's int8 grid (tile_conv.cpp, quantise_int8, in float32 as there): w' = w x_step per
    input channel, step = max |w'| / 127 per output channel, w = round(w' / step) step / x_step. The engine's own
    quantisation of the result gives the same integers back, so int8 runs these weights exactly."""
    out = []
    for (w, b), m in zip(weights, maxima):
        if m is None:
            out.append((w, b))
            continue
        w = w.astype(np.float32)
        xs = (m.astype(np.float32) / np.float32(255))[None, :, None, None]
        wp = w * xs
        step = np.abs(wp).max(axis=(1, 2, 3), keepdims=True) / np.float32(127)
        q = np.clip(np.rint(np.divide(wp, step, out=np.zeros_like(wp), where=step > 0)), -127, 127)
        snapped = np.divide(q * step, xs, out=np.zeros_like(w), where=xs > 0)
        out.append((snapped.astype(np.float32), b))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help=".bmodel files, rewritten in place with their calibration")
    ap.add_argument("--data", default=".devdata/faces.npz", help="prepare_data.py's npz")
    ap.add_argument("--batches", type=int, default=BATCHES)
    ap.add_argument("--quantile", type=float, default=1.0, help="per channel, of the positive values (1: maximum)")
    ap.add_argument("--snap-weights", action="store_true", help="also round the weights onto the int8 grid")
    args = ap.parse_args()
    if not os.path.exists(args.data):
        sys.exit("calibrate_int8: %s not found (run models/beautynet/prepare_data.py first)" % args.data)
    torch.manual_seed(SEED)
    data = synth.load_faces(args.data, "cpu")
    for path in args.models:
        m = bmodel.read(path)
        maxima = calibrate(path, data, args.batches, quantile=args.quantile)
        maxima = [mx if ok else None for mx, ok in zip(maxima, int8_eligible(m["layers"]))]
        weights = snap_weights(m["weights"], maxima) if args.snap_weights else m["weights"]
        bmodel.write(path, m["tier"], m["width"], m["height"], m["layers"], weights, m["input_scale"],
                     m["input_bias"], m["output_scale"], m["colour"], m["output_kind"], m["shuffle"], m["crop"],
                     input_max=maxima)
        again = bmodel.read(path)
        assert all(np.array_equal(a[0], b[0]) for a, b in zip(weights, again["weights"])), "weights changed"
        print("%s: %d convs calibrated on %d crops; input maxima per conv (max over channels): %s" % (
            path, len(maxima), args.batches * BATCH, " ".join("-" if x is None else "%.2f" % float(x.max())
                                                              for x in maxima)))


if __name__ == "__main__":
    main()
