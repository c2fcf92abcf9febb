"""Reads a .bmodel (docs/model-format.md) into numpy arrays for the benchmark's exporters and its numpy oracle.

Independent of models/beautynet/bmodel.py on purpose: the benchmark checks the file as the spec describes it, so a
writer bug does not hide behind a reader that shares its code. Every field is checked against the file length before
it is used; anything wrong raises BModelError naming the file and the field.
"""
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np

CONV, UPSAMPLE, CONCAT = 1, 2, 3
ACT_NONE, ACT_RELU, ACT_TANH = 0, 1, 2
OP_NAMES = {CONV: "conv", UPSAMPLE: "upsample", CONCAT: "concat"}
ACT_NAMES = {ACT_NONE: "none", ACT_RELU: "relu", ACT_TANH: "tanh"}

MAGIC = b"BTFYMDL\0"
HEADER_BYTES = 96
LAYER_BYTES = 32


class BModelError(ValueError):
    pass


@dataclass
class Layer:
    op: int
    a: int
    b: int
    out_channels: int
    stride: int
    act: int
    weight_offset: int
    weight: np.ndarray = None  # conv only: float32 [out, in, 3, 3] (OIHW)
    bias: np.ndarray = None    # conv only: float32 [out]
    input_max: np.ndarray = None  # version 3, calibrated convs: float32 [in], each input channel's maximum

    def describe(self, ch_in):
        if self.op == CONV:
            return f"conv3x3/s{self.stride} {ch_in}->{self.out_channels} {ACT_NAMES[self.act]}"
        return OP_NAMES[self.op]


@dataclass
class BModel:
    path: str
    tier: str
    width: int
    height: int
    colour: int
    input_scale: float
    input_bias: float
    output_scale: float
    output_kind: int = 0  # 0: 3 delta maps; 1: layers (blemish 3, tone 3, alpha 1)
    shuffle: int = 1
    layers: list = field(default_factory=list)

    def output_maps(self):
        """Maps of the head before the pixel shuffle: 3 deltas (kind 0) or blemish 3, tone 3, alpha 1 (kind 1)."""
        return 7 if self.output_kind == 1 else 3

    def head_shape(self, width=None, height=None):
        """CHW of the net's output tensor: the head's own channels (output_maps x shuffle^2, pixel-shuffled by the
        consumer)."""
        w, h = self.sizes(width, height)[-1]
        return (self.layers[-1].out_channels, h, w)

    def channels(self):
        """Channel count of every tensor; tensor 0 is the input, tensor i+1 is layer i's output."""
        ch = [3]
        for l in self.layers:
            if l.op == CONV:
                ch.append(l.out_channels)
            elif l.op == UPSAMPLE:
                ch.append(ch[l.a])
            else:
                ch.append(ch[l.a] + ch[l.b])
        return ch

    def sizes(self, width=None, height=None):
        """(width, height) of every tensor at an input of width x height (default: the model's own)."""
        sz = [(width or self.width, height or self.height)]
        for l in self.layers:
            w, h = sz[l.a]
            if l.op == CONV:
                w, h = (w + 2 - 3) // l.stride + 1, (h + 2 - 3) // l.stride + 1
            elif l.op == UPSAMPLE:
                w, h = 2 * w, 2 * h
            sz.append((w, h))
        return sz

    def conv_indices(self):
        return [i for i, l in enumerate(self.layers) if l.op == CONV]

    def layer_macs(self, width=None, height=None):
        """Direct-convolution MACs of every conv layer: {layer index: macs}."""
        ch, sz = self.channels(), self.sizes(width, height)
        out = {}
        for i, l in enumerate(self.layers):
            if l.op == CONV:
                w, h = sz[i + 1]
                out[i] = w * h * ch[l.a] * l.out_channels * 9
        return out

    def macs(self, width=None, height=None):
        return sum(self.layer_macs(width, height).values())

    def consumers(self):
        """For every tensor, the layer indices that read it."""
        users = [[] for _ in range(len(self.layers) + 1)]
        for i, l in enumerate(self.layers):
            users[l.a].append(i)
            if l.op == CONCAT:
                users[l.b].append(i)
        return users


def _err(path, what):
    raise BModelError(f"{path}: {what}")


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return parse(data, path)


def parse(data, path="<bytes>"):
    n = len(data)
    if n < HEADER_BYTES + 4:
        _err(path, f"file is {n} bytes, shorter than the {HEADER_BYTES}-byte header plus checksum")
    if data[:8] != MAGIC:
        _err(path, "bad magic (not a .bmodel)")
    version, endian, file_size = struct.unpack_from("<III", data, 8)
    if endian == 0x04030201:
        _err(path, "endian marker byte-swapped: file written on the other endianness")
    if endian != 0x01020304:
        _err(path, f"bad endian marker 0x{endian:08x}")
    if version not in (1, 2, 3):
        _err(path, f"unsupported version {version}")
    if file_size != n:
        _err(path, f"file_size field says {file_size} bytes, file has {n}")
    (crc,) = struct.unpack_from("<I", data, n - 4)
    if zlib.crc32(data[: n - 4]) & 0xFFFFFFFF != crc:
        _err(path, "checksum mismatch")
    tier = data[20:36].split(b"\0", 1)[0].decode("ascii", "replace")
    (width, height, in_ch, colour, in_scale, in_bias, out_kind, out_scale, count, w_off, w_bytes) = struct.unpack_from(
        "<IIIIffIfIII", data, 36)
    for name, v in (("input_width", width), ("input_height", height)):
        if not (8 <= v <= 4096) or v % 8:
            _err(path, f"{name} {v} is not a multiple of 8 in 8..4096")
    if in_ch != 3:
        _err(path, f"input_channels {in_ch} != 3")
    if colour not in (0, 1):
        _err(path, f"colour {colour} unknown")
    if out_kind not in ((0,) if version == 1 else (0, 1)):
        _err(path, f"output_kind {out_kind} unknown")
    shuffle = 1  # version 1: no pixel shuffle, zeros at 80..95
    if version >= 2:
        shuffle, crop_w, crop_a, crop_n = struct.unpack_from("<Ifff", data, 80)
        if shuffle not in (1, 2):
            _err(path, f"output_shuffle {shuffle} is not 1 or 2")
        if not (0.5 <= crop_w <= 4 and 0.5 <= crop_a <= 3 and -0.5 <= crop_n <= 0.5):
            _err(path, f"face framing {crop_w}, {crop_a}, {crop_n} out of range")
    elif any(struct.unpack_from("<4I", data, 80)):
        _err(path, "reserved header bytes are not zero")
    if not (1 <= count <= 256):
        _err(path, f"layer_count {count} outside 1..256")
    table_end = HEADER_BYTES + count * LAYER_BYTES
    if table_end > n - 4:
        _err(path, f"layer table ({count} layers) runs past the end of the file")
    if w_off % 4 or w_off < table_end or w_off + w_bytes != n - 4:
        _err(path, f"weights_offset {w_off} / weights_bytes {w_bytes} do not fit between the table and the checksum")
    blob = data[w_off: w_off + w_bytes]

    m = BModel(path, tier, width, height, colour, in_scale, in_bias, out_scale, out_kind, shuffle)
    ch = [3]
    used = []
    for i in range(count):
        op, a, b, oc, stride, act, woff, coff = struct.unpack_from("<IiiIIIII", data, HEADER_BYTES + i * LAYER_BYTES)
        where = f"layer {i}"
        if coff and (version < 3 or op != CONV):
            _err(path, f"{where}: calibration_offset {coff} set outside a version-3 conv")
        if not (0 <= a <= i):
            _err(path, f"{where}: input_a {a} is not an earlier tensor")
        if op == CONV:
            if not (1 <= oc <= 64) or stride not in (1, 2) or act not in (0, 1, 2) or b != -1:
                _err(path, f"{where}: bad conv fields (out_channels {oc}, stride {stride}, activation {act})")
            nw = oc * ch[a] * 9
            end = woff + 4 * (nw + oc)
            if woff % 4 or end > w_bytes:
                _err(path, f"{where}: weights [{woff}, {end}) outside the {w_bytes}-byte blob")
            for s, e in used:
                if woff < e and s < end:
                    _err(path, f"{where}: weights overlap another conv's")
            used.append((woff, end))
            w = np.frombuffer(blob, "<f4", nw, woff).reshape(oc, ch[a], 3, 3).astype(np.float32)
            bias = np.frombuffer(blob, "<f4", oc, woff + 4 * nw).astype(np.float32)
            cal = None
            if coff:
                cend = coff + 4 * ch[a]
                if coff % 4 or cend > w_bytes or any(coff < e and s < cend for s, e in used):
                    _err(path, f"{where}: calibration [{coff}, {cend}) outside the blob or overlapping weights")
                used.append((coff, cend))
                cal = np.frombuffer(blob, "<f4", ch[a], coff).astype(np.float32)
                if not (np.isfinite(cal).all() and (cal >= 0).all() and (cal <= 1e6).all()):
                    _err(path, f"{where}: calibration maxima not finite in 0..1e6")
            layer = Layer(op, a, b, oc, stride, act, woff, w, bias, cal)
            ch.append(oc)
        elif op == UPSAMPLE:
            if b != -1 or oc != ch[a] or stride != 1 or act != 0:
                _err(path, f"{where}: bad upsample fields")
            layer = Layer(op, a, b, oc, 1, 0, 0)
            ch.append(oc)
        elif op == CONCAT:
            if not (0 <= b <= i) or oc != ch[a] + ch[b] or oc > 64 or stride != 1 or act != 0:
                _err(path, f"{where}: bad concat fields")
            layer = Layer(op, a, b, oc, 1, 0, 0)
            ch.append(oc)
        else:
            _err(path, f"{where}: unknown op {op}")
        m.layers.append(layer)
    if m.layers[-1].op != CONV:
        _err(path, "last layer (the output head) is not a conv")
    if m.layers[-1].out_channels != m.output_maps() * shuffle * shuffle:
        _err(path, f"output head has {m.layers[-1].out_channels} channels; output_kind {out_kind} with shuffle "
                   f"{shuffle} needs {m.output_maps() * shuffle * shuffle}")
    sz = m.sizes()
    for i, l in enumerate(m.layers):
        if l.op == CONCAT and sz[l.a] != sz[l.b]:
            _err(path, f"layer {i}: concat inputs differ in size {sz[l.a]} vs {sz[l.b]}")
    return m
