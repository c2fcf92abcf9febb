"""Writer and reader of the engine's .bmodel format (docs/model-format.md)."""
import struct
import zlib

import numpy as np

from . import arch
from .arch import CONV, channels

MAGIC = b"BTFYMDL\0"
VERSION = 3  # v2: output_kind 1 (retouch layers), pixel-shuffle factor and face framing in the header;
#             v3: each conv may carry its input's per-channel maxima on real face crops (int8 calibration)
HEADER = 96
LAYER = 32
# What a version-1 file means (it has zeros at 80..95): no pixel shuffle and the face framing the v1 nets were
# trained with. Fixed here, not taken from arch.py, so that a later change of arch.CROP_* cannot reinterpret old files.
V1_SHUFFLE = 1
V1_CROP = (1.45, 1.25, 0.069)


def write(path, tier_name, width, height, layers, weights, input_scale, input_bias, output_scale, colour=0,
          output_kind=arch.OUTPUT_KIND_LAYERS, shuffle=arch.SHUFFLE,
          crop=(arch.CROP_WIDTH, arch.CROP_ASPECT, arch.CROP_NOSE_OFFSET), version=VERSION, input_max=None):
    """weights: for each conv layer (in order) a pair (W[out, in, 3, 3], b[out]) of float arrays.
    output_kind 0 (v1 meaning: one RGB delta) or 1 (arch.OUT_* layers); the head has kind's channels x shuffle^2.
    version=1 writes the old header (tests of backward compatibility): kind 0, shuffle 1 and the v1 framing only.
    input_max (version 3): for each conv, its input's per-channel maxima (calibrate_int8.py), or None."""
    maps = 7 if output_kind == arch.OUTPUT_KIND_LAYERS else 3
    assert output_kind in (arch.OUTPUT_KIND_DELTA, arch.OUTPUT_KIND_LAYERS) and shuffle in (1, 2)
    assert layers[-1].out_channels == maps * shuffle * shuffle, (layers[-1].out_channels, maps, shuffle)
    assert version in (1, 2, VERSION)
    assert input_max is None or version >= 3, "calibration needs version 3"
    if version == 1:
        assert output_kind == arch.OUTPUT_KIND_DELTA and shuffle == V1_SHUFFLE, "version 1 has one delta, no shuffle"
    ch = channels(layers)
    blob = bytearray()
    table = bytearray()
    wi = iter(weights)
    mi = iter(input_max or [])
    for i, l in enumerate(layers):
        off = calib = 0
        if l.op == CONV:
            w, b = next(wi)
            w = np.ascontiguousarray(w, dtype="<f4")
            b = np.ascontiguousarray(b, dtype="<f4")
            assert w.shape == (l.out_channels, ch[l.a], 3, 3), (i, w.shape)
            assert b.shape == (l.out_channels,)
            off = len(blob)
            blob += w.tobytes() + b.tobytes()
            m = next(mi, None)
            if m is not None:  # after the weights: never at offset 0, which means "not calibrated"
                m = np.ascontiguousarray(m, dtype="<f4")
                assert m.shape == (ch[l.a],) and np.all(np.isfinite(m)) and np.all(m >= 0), (i, m)
                calib = len(blob)
                blob += m.tobytes()
        table += struct.pack("<IiiIIIII", l.op, l.a, l.b, l.out_channels, l.stride, l.act, off, calib)
    weights_offset = HEADER + len(table)
    size = weights_offset + len(blob) + 4
    name = tier_name.encode()[:15].ljust(16, b"\0")
    head = MAGIC + struct.pack("<III", version, 0x01020304, size) + name
    head += struct.pack("<IIIIffIfIII", width, height, 3, colour, input_scale, input_bias, output_kind,
                        output_scale, len(layers), weights_offset, len(blob))
    if version >= 2:
        head += struct.pack("<Ifff", shuffle, *crop)
    head += b"\0" * (HEADER - len(head))
    body = head + table + blob
    with open(path, "wb") as f:
        f.write(body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF))


def read(path):
    """Parses a .bmodel (checks magic, version and CRC): dict with the header fields, layers and conv weights."""
    from .arch import Layer
    data = open(path, "rb").read()
    if data[:8] != MAGIC:
        raise ValueError("%s: not a .bmodel" % path)
    if zlib.crc32(data[:-4]) & 0xFFFFFFFF != struct.unpack("<I", data[-4:])[0]:
        raise ValueError("%s: checksum mismatch" % path)
    version, endian, size = struct.unpack_from("<III", data, 8)
    if version not in (1, 2, VERSION) or endian != 0x01020304 or size != len(data):
        raise ValueError("%s: bad version/endianness/size" % path)
    tier = data[20:36].rstrip(b"\0").decode()
    (width, height, cin, colour, in_scale, in_bias, kind, out_scale, n, woff, wbytes) = struct.unpack_from(
        "<IIIIffIfIII", data, 36)
    shuffle, crop = V1_SHUFFLE, V1_CROP
    if version >= 2:
        shuffle, *crop = struct.unpack_from("<Ifff", data, 80)
    layers, weights, input_max = [], [], []
    ch = [cin]
    for i in range(n):
        op, a, b, oc, stride, act, off, calib = struct.unpack_from("<IiiIIIII", data, HEADER + i * LAYER)
        layers.append(Layer(op, a, b, oc, stride, act))
        ch = channels(layers, cin)
        if op == CONV:
            k = oc * ch[a] * 9
            w = np.frombuffer(data, "<f4", k, woff + off).reshape(oc, ch[a], 3, 3)
            bias = np.frombuffer(data, "<f4", oc, woff + off + 4 * k)
            weights.append((w.copy(), bias.copy()))
            input_max.append(np.frombuffer(data, "<f4", ch[a], woff + calib).copy() if version >= 3 and calib else None)
    return dict(tier=tier, width=width, height=height, colour=colour, input_scale=in_scale, input_bias=in_bias,
                output_scale=out_scale, output_kind=kind, shuffle=shuffle, crop=tuple(crop), layers=layers,
                weights=weights, version=version,
                input_max=input_max if any(m is not None for m in input_max) else None)
