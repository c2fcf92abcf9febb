#!/usr/bin/env python3
"""Writes a tier's architecture with seeded random weights: a TEST model for the engine's tests and benchmarks.

Never the product's model: the tier name is prefixed `test-` so nothing mistakes it for trained weights.
By default the current format (version 2, retouch layers, pixel shuffle). --v1 writes a version-1 file instead: the
same graph with a 3-channel head (one delta at the head's resolution), as the nets before v2 were, for the tests
that the element still runs those.
"""
import argparse
import dataclasses
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
    p.add_argument("--v1", action="store_true", help="a version-1 file: one 3-channel delta head, no shuffle")
    a = p.parse_args()
    t = arch.TIERS[a.tier]
    layers = list(t.layers)
    if a.v1:
        layers[-1] = dataclasses.replace(layers[-1], out_channels=3)
    rng = np.random.default_rng(a.seed)
    ch = arch.channels(layers)
    weights = []
    for l in layers:
        if l.op == arch.CONV:
            fan_in = ch[l.a] * 9
            w = rng.normal(0, (2.0 / fan_in) ** 0.5, (l.out_channels, ch[l.a], 3, 3))
            b = rng.normal(0, 0.05, l.out_channels)
            weights.append((w, b))
    if a.v1:
        bmodel.write(a.output, "test-" + t.name, t.width, t.height, layers, weights, arch.INPUT_SCALE,
                     arch.INPUT_BIAS, arch.OUTPUT_SCALE, output_kind=arch.OUTPUT_KIND_DELTA, shuffle=1,
                     crop=bmodel.V1_CROP, version=1)
    else:
        bmodel.write(a.output, "test-" + t.name, t.width, t.height, layers, weights, arch.INPUT_SCALE,
                     arch.INPUT_BIAS, arch.OUTPUT_SCALE)


if __name__ == "__main__":
    main()
