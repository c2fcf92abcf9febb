"""Writer and reader of the engine's .bmodel format (docs/model-format.md)."""
import struct
import zlib

import numpy as np

from .arch import CONV, channels

MAGIC = b"BTFYMDL\0"
VERSION = 1
HEADER = 96
LAYER = 32


def write(path, tier_name, width, height, layers, weights, input_scale, input_bias, output_scale, colour=0):
    """weights: for each conv layer (in order) a pair (W[out, in, 3, 3], b[out]) of float arrays."""
    ch = channels(layers)
    blob = bytearray()
    table = bytearray()
    wi = iter(weights)
    for i, l in enumerate(layers):
        off = 0
        if l.op == CONV:
            w, b = next(wi)
            w = np.ascontiguousarray(w, dtype="<f4")
            b = np.ascontiguousarray(b, dtype="<f4")
            assert w.shape == (l.out_channels, ch[l.a], 3, 3), (i, w.shape)
            assert b.shape == (l.out_channels,)
            off = len(blob)
            blob += w.tobytes() + b.tobytes()
        table += struct.pack("<IiiIIIII", l.op, l.a, l.b, l.out_channels, l.stride, l.act, off, 0)
    weights_offset = HEADER + len(table)
    size = weights_offset + len(blob) + 4
    name = tier_name.encode()[:15].ljust(16, b"\0")
    head = MAGIC + struct.pack("<III", VERSION, 0x01020304, size) + name
    head += struct.pack("<IIIIffIfIII", width, height, 3, colour, input_scale, input_bias, 0, output_scale,
                        len(layers), weights_offset, len(blob))
    head += b"\0" * (HEADER - len(head))
    body = head + table + blob
    with open(path, "wb") as f:
        f.write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))
