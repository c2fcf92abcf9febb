"""Tier architectures of the beauty net, as layer graphs in the engine's op set.

The single source of truth for S/M/L: the trainer builds its PyTorch modules from these graphs, the exporter writes
them to .bmodel, and make_test_model.py writes them with seeded random weights for the engine's tests and benchmark.

Seed rules (../shared/seeds/README.md): 3x3 convs only, stride-2 3x3 to go down, nearest x2 + 3x3 to go up, at most
64 channels, concat only of stride-2 outputs (the skips), single path otherwise, portrait-shaped input. The output is
a 3-channel delta at half the input resolution: the low-resolution retouch layer the element upsamples and blends.
"""
from dataclasses import dataclass, field

CONV, UPSAMPLE, CONCAT = 1, 2, 3
ACT_NONE, ACT_RELU, ACT_TANH = 0, 1, 2


@dataclass
class Layer:
    op: int
    a: int
    b: int = -1
    out_channels: int = 0
    stride: int = 1
    act: int = ACT_NONE


@dataclass
class Tier:
    name: str
    width: int   # net input, pixels (portrait: width < height)
    height: int
    c1: int      # channels at 1/2, 1/4, 1/8 resolution
    c2: int
    c3: int
    deep_blocks: int  # stride-1 convs at 1/8
    layers: list = field(default_factory=list)


def _build(t: Tier) -> Tier:
    L = []

    def add(layer):
        L.append(layer)
        return len(L)  # tensor index of this layer's output

    def conv(a, c, stride=1, act=ACT_RELU):
        return add(Layer(CONV, a, -1, c, stride, act))

    e1 = conv(0, t.c1, 2)          # 1/2
    x = conv(e1, t.c1)
    e2 = conv(x, t.c2, 2)          # 1/4
    x = conv(e2, t.c2)
    x = conv(x, t.c3, 2)           # 1/8
    for _ in range(t.deep_blocks):
        x = conv(x, t.c3)
    up = add(Layer(UPSAMPLE, x, -1, t.c3))
    cat = add(Layer(CONCAT, up, e2, t.c3 + t.c2))
    x = conv(cat, t.c2)            # 1/4
    x = conv(x, t.c2)
    up = add(Layer(UPSAMPLE, x, -1, t.c2))
    cat = add(Layer(CONCAT, up, e1, t.c2 + t.c1))
    x = conv(cat, t.c1)            # 1/2
    x = conv(x, t.c1)
    conv(x, 3, 1, ACT_TANH)        # head: delta at 1/2 resolution
    t.layers = L
    return t


TIERS = {
    "S": _build(Tier("S", 128, 160, 8, 16, 24, 1)),
    "M": _build(Tier("M", 160, 224, 8, 16, 32, 2)),
    "L": _build(Tier("L", 192, 256, 16, 24, 32, 3)),
}

# The net sees RGB in [-1, 1]; its tanh output times OUTPUT_SCALE is the delta in 8-bit units.
INPUT_SCALE = 2.0 / 255.0
INPUT_BIAS = -1.0
OUTPUT_SCALE = 64.0


def channels(layers, in_channels=3):
    """Channel count of every tensor (index 0 = input)."""
    ch = [in_channels]
    for l in layers:
        if l.op == CONV:
            ch.append(l.out_channels)
        elif l.op == UPSAMPLE:
            ch.append(ch[l.a])
        else:
            ch.append(ch[l.a] + ch[l.b])
    return ch


def macs(tier: Tier) -> int:
    """Direct-convolution multiply-accumulates for one input at the tier's size."""
    ch = channels(tier.layers)
    size = [(tier.width, tier.height)]
    total = 0
    for i, l in enumerate(tier.layers):
        w, h = size[l.a]
        if l.op == CONV:
            w, h = (w // l.stride, h // l.stride)
            total += w * h * ch[l.a] * l.out_channels * 9
        elif l.op == UPSAMPLE:
            w, h = 2 * w, 2 * h
        size.append((w, h))
    return total
