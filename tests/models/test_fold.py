#!/usr/bin/env python3
"""Fold check: for every tier, a RepVGG net after some training-mode steps (so BN running statistics and affine
parameters are not trivial) gives in eval mode the same output as its folded single-3x3 deploy form, and the
folded weights survive the .bmodel write/read round trip bit-exactly. Tolerance 1e-5 abs on the tanh output."""
import os
import sys
import tempfile

import torch

import _paths  # noqa: F401
from beautynet import arch, bmodel, nets

TOL = 1e-5


def main():
    torch.manual_seed(3)
    ok = True
    for name, tier in arch.TIERS.items():
        net = nets.BeautyNet(tier)
        for m in net.modules():  # training starts with a zero head (nets.py); give every BN non-trivial scales
            if isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.uniform_(m.weight, 0.5, 1.5)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for _ in range(3):  # training mode: BN statistics move, all branches get gradients
            x = torch.rand(2, 3, tier.height, tier.width) * 2 - 1
            loss = (net(x) - 0.3).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        dep = net.fold()
        x = torch.rand(2, 3, tier.height, tier.width) * 2 - 1
        with torch.no_grad():
            a, b = net(x), dep(x)
        d = float((a - b).abs().max())
        spread = float(a.std())
        with tempfile.TemporaryDirectory() as tmp:
            f = os.path.join(tmp, "m.bmodel")
            net.export(f)
            back = bmodel.read(f)
        same = all(torch.equal(torch.from_numpy(w), c.weight.detach()) and torch.equal(torch.from_numpy(bb),
                   c.bias.detach()) for (w, bb), c in zip(back["weights"], dep.convs))
        n_id = sum(1 for m in net.convs if m.bid is not None)
        good = d <= TOL and spread > 1e-3 and same and back["layers"] == tier.layers
        print("%s %s: eval vs folded max|diff| %.2e (output std %.3f), %d identity branches, file round trip %s" % (
            "ok  " if good else "FAIL", name, d, spread, n_id, "exact" if same else "DIFFERS"))
        ok &= good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
