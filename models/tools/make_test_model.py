#!/usr/bin/env python3
"""Writes a tier's architecture with seeded random weights: a TEST model for the engine's tests and benchmarks.

Never the product's model: the tier name is prefixed `test-` so nothing mistakes it for trained weights.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from beautynet import arch, bmodel  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--tier", required=True, choices=sorted(arch.TIERS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    t = arch.TIERS[a.tier]
    rng = np.random.default_rng(a.seed)
    ch = arch.channels(t.layers)
    weights = []
    for l in t.layers:
        if l.op == arch.CONV:
            fan_in = ch[l.a] * 9
            w = rng.normal(0, (2.0 / fan_in) ** 0.5, (l.out_channels, ch[l.a], 3, 3))
            b = rng.normal(0, 0.05, l.out_channels)
            weights.append((w, b))
    bmodel.write(a.output, "test-" + t.name, t.width, t.height, t.layers, weights,
                 arch.INPUT_SCALE, arch.INPUT_BIAS, arch.OUTPUT_SCALE)


if __name__ == "__main__":
    main()
