"""Tier architectures of the beauty net, as layer graphs in the engine's op set.

The single source of truth for S/M/L and for what the net's output means: the trainer builds its PyTorch modules
from these graphs, the exporter writes them (with the output layout and the face framing below) to .bmodel, and
make_test_model.py writes them with seeded random weights for the engine's tests and benchmark.

Seed rules (../shared/seeds/README.md): 3x3 convs only, stride-2 3x3 to go down, nearest x2 + 3x3 to go up, at most
64 channels, concat only of stride-2 outputs (the skips), single path otherwise, portrait-shaped input.

v2 output (docs/model-card.md): the head runs at 1/2 resolution and emits OUT_CHANNELS x SHUFFLE^2 channels that a
pixel shuffle (depth to space, PyTorch's channel order) turns into OUT_CHANNELS maps at the net's FULL input
resolution: a blemish delta (RGB), a tone-evening delta (RGB) and a blemish alpha. Full input resolution because a
half-resolution delta cannot express small spots (best possible removal 0.60-0.78 vs 0.85-0.93, issue 12); the
shuffle keeps the head's conv at 1/2 resolution with 28 outputs, which the engine's kernels run near peak, instead
of a full-resolution 3x3 with 7 outputs, which they do not.
"""
from dataclasses import dataclass, field

CONV, UPSAMPLE, CONCAT = 1, 2, 3
ACT_NONE, ACT_RELU, ACT_TANH = 0, 1, 2

# Output layout (after the pixel shuffle): channel ranges of the retouch layers.
OUT_BLEMISH = (0, 3)   # RGB delta that removes blemishes (tanh x OUTPUT_SCALE, 8-bit units)
OUT_TONE = (3, 6)      # RGB delta that evens the tone (same scale), applied on top, strength `tone`
OUT_ALPHA = 6          # blemish alpha: (tanh + 1) / 2, where the frame-resolution spot step acts
OUT_CHANNELS = 7
SHUFFLE = 2
OUTPUT_KIND_DELTA, OUTPUT_KIND_LAYERS = 0, 1  # .bmodel output_kind: v1 single delta, v2 the layers above

# Face framing of the net input (prepare_data.py crops it, the element reads it from the .bmodel header): width =
# CROP_WIDTH jaw widths, height = CROP_ASPECT x width, centred horizontally halfway between the jaw's midpoint and
# the nose bridge, vertically so that the nose tip (landmark 30) sits CROP_NOSE_OFFSET x height below the centre.
CROP_WIDTH = 1.45
CROP_ASPECT = 1.25
CROP_NOSE_OFFSET = 0.069


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
    width: int   # net input, pixels (portrait: width < height); a multiple of 16
    height: int
    c1: int      # channels at 1/2, 1/4, 1/8, 1/16 resolution
    c2: int
    c3: int
    c4: int
    deep_blocks: int  # stride-1 convs at 1/16
    layers: list = field(default_factory=list)


def _build(t: Tier) -> Tier:
    L = []

    def add(layer):
        L.append(layer)
        return len(L)  # tensor index of this layer's output

    def conv(a, c, stride=1, act=ACT_RELU):
        return add(Layer(CONV, a, -1, c, stride, act))

    def up_cat(x, skip, c):
        up = add(Layer(UPSAMPLE, x, -1, c))
        return add(Layer(CONCAT, up, skip, c + _ch(L, skip)))

    e1 = conv(0, t.c1, 2)          # 1/2
    x = conv(e1, t.c1)
    e2 = conv(x, t.c2, 2)          # 1/4
    x = conv(e2, t.c2)
    e3 = conv(x, t.c3, 2)          # 1/8
    x = conv(e3, t.c3)
    x = conv(x, t.c4, 2)           # 1/16: receptive field for redness patches and uneven tone
    for _ in range(t.deep_blocks):
        x = conv(x, t.c4)
    x = conv(up_cat(x, e3, t.c4), t.c3)   # 1/8
    x = conv(up_cat(x, e2, t.c3), t.c2)   # 1/4
    x = conv(x, t.c2)
    x = conv(up_cat(x, e1, t.c2), t.c1)   # 1/2
    x = conv(x, t.c1)
    conv(x, OUT_CHANNELS * SHUFFLE * SHUFFLE, 1, ACT_TANH)  # head, pixel-shuffled to full input resolution
    t.layers = L
    return t


def _ch(layers, tensor):
    return channels(layers)[tensor]


# The net sees RGB in [-1, 1]; its tanh output times OUTPUT_SCALE is a delta in 8-bit units (up to ~90/255 for
# strong macules).
INPUT_SCALE = 2.0 / 255.0
INPUT_BIAS = -1.0
OUTPUT_SCALE = 96.0


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


def parse_tier(spec: str) -> Tier:
    """An experimental tier from "NAME=W,H,C1,C2,C3,C4,DEEP" (train.py --tier-spec), built by the same rules."""
    name, _, rest = spec.partition("=")
    v = [int(x) for x in rest.split(",")]
    if not name or len(v) != 7 or v[0] % 16 or v[1] % 16 or not all(0 < c <= 64 for c in v[2:6]) or v[6] < 0:
        raise ValueError("tier spec %r: want NAME=W,H,C1,C2,C3,C4,DEEP (W, H multiples of 16, 1-64 channels)" % spec)
    t = _build(Tier(name, *v))
    if max(channels(t.layers)) > 64:
        raise ValueError("tier spec %r: a concat would hold %d channels; the engine takes at most 64 (c4 + c3 <= 64)"
                         % (spec, max(channels(t.layers))))
    return t


TIERS = {
    "S": _build(Tier("S", 128, 160, 8, 16, 24, 32, 1)),
    "M": _build(Tier("M", 160, 224, 8, 16, 32, 32, 2)),
    "L": _build(Tier("L", 160, 224, 16, 32, 32, 32, 2)),
}
