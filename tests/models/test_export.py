#!/usr/bin/env python3
"""Export check: a RepVGG-trained net folded to .bmodel gives the same output in the C++ engine (bty-run, every
executor) as PyTorch in deploy mode. Also runs the shipped weights (models/beautify-*.bmodel) the same way.

The random nets are the current tiers (format v2: the raw 28-channel head, before the pixel shuffle); the shipped
weights are whatever version they are (v1 or v2). Tolerance: max |diff| <= 2e-5 on the tanh output (0.002 of an
8-bit level after OUTPUT_SCALE=96), mean <= 1e-6 (measured: about 3e-6 max, 2e-7 mean).
Both sides are fp32; the engine sums in another order (tiles, SIMD, Winograd where it has it), so bit-exactness is
not expected, but a wrong weight layout, padding, concat order or activation gives errors of 1e-2 and more.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import _paths  # noqa: F401
from beautynet import arch, nets

MAX_ABS, MEAN_ABS = 2e-5, 1e-6


def randomise_bn(net, g):
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(c, generator=g) * 0.1)


def run_engine(exe, model, x, executor, tmp):
    inp, out = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.f32")
    x.numpy().astype("<f4").tofile(inp)
    r = subprocess.run([exe, "--model", model, "--input-planar", inp, "--output", out, "--executor", executor,
                        "--threads", "2"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("bty-run %s failed (%d): %s" % (executor, r.returncode, r.stderr.strip()))
    return np.fromfile(out, "<f4")


def check(exe, model, deploy, x, tmp, label):
    with torch.no_grad():
        ref = deploy(x[None])[0]
    ok = True
    for ex in ("reference", "layered", "pipeline"):
        got = run_engine(exe, model, x, ex, tmp)
        if got.size != ref.numel():
            print("FAIL %s %s: engine wrote %d floats, expected %d %s" % (label, ex, got.size, ref.numel(),
                                                                         tuple(ref.shape)))
            ok = False
            continue
        d = np.abs(got.reshape(ref.shape) - ref.numpy())
        good = d.max() <= MAX_ABS and d.mean() <= MEAN_ABS
        print("%s %s %-9s max|diff| %.2e mean %.2e (output range %.3f..%.3f)" % (
            "ok  " if good else "FAIL", label, ex, d.max(), d.mean(), float(ref.min()), float(ref.max())))
        ok &= bool(good)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bty-run", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(7)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("S", "M"):
            net = nets.BeautyNet(arch.TIERS[name])
            randomise_bn(net, g)
            with torch.no_grad():  # a head big enough that tanh is not flat: the test must see real values
                for p in net.convs[-1].parameters():
                    p.mul_(1.5)
            net.eval()
            model = os.path.join(tmp, "rand-%s.bmodel" % name)
            net.export(model, "test-" + name)
            t = net.tier
            x = torch.rand(3, t.height, t.width, generator=g) * 2 - 1
            ok &= check(a.bty_run, model, nets.load_bmodel(model), x, tmp, "random-" + name)
        shipped = os.path.join(_paths.ROOT, "models")
        for f in sorted(os.listdir(shipped)):
            if f.startswith("beautify-") and f.endswith(".bmodel"):
                dep = nets.load_bmodel(os.path.join(shipped, f))
                t = dep.tier
                x = torch.rand(3, t.height, t.width, generator=g) * 2 - 1
                ok &= check(a.bty_run, os.path.join(shipped, f), dep, x, tmp, f)
    print("export test:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
