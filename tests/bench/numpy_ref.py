"""A plain numpy forward pass of a .bmodel, in float64: an oracle independent of every engine under test.

Used by the exporter check (so the ONNX/ncnn exports are verified even without bty-bench) and as a second opinion
in the benchmark's verification step. Slow by design; use it at the tiers' own input sizes only.
"""
import numpy as np

from bmodel_reader import ACT_RELU, ACT_TANH, CONCAT, CONV, UPSAMPLE


def conv3x3(x, w, b, stride):
    """x [C, H, W], w [O, C, 3, 3], zero padding 1; output [O, ceil(H/s), ceil(W/s)]."""
    c, h, wd = x.shape
    oh, ow = (h - 1) // stride + 1, (wd - 1) // stride + 1
    xp = np.zeros((c, h + 2, wd + 2), dtype=np.float64)
    xp[:, 1:-1, 1:-1] = x
    out = np.zeros((w.shape[0], oh * ow), dtype=np.float64)
    w = w.astype(np.float64)
    for ky in range(3):
        for kx in range(3):
            tap = xp[:, ky: ky + stride * (oh - 1) + 1: stride, kx: kx + stride * (ow - 1) + 1: stride]
            out += w[:, :, ky, kx] @ tap.reshape(c, -1)
    out += b.astype(np.float64)[:, None]
    return out.reshape(-1, oh, ow)


def forward(model, x):
    """x: float CHW input (already normalised). Returns the head's output, float64 CHW."""
    t = [np.asarray(x, dtype=np.float64)]
    for l in model.layers:
        a = t[l.a]
        if l.op == CONV:
            y = conv3x3(a, l.weight, l.bias, l.stride)
            if l.act == ACT_RELU:
                y = np.maximum(y, 0)
            elif l.act == ACT_TANH:
                y = np.tanh(y)
        elif l.op == UPSAMPLE:
            y = a.repeat(2, axis=1).repeat(2, axis=2)
        elif l.op == CONCAT:
            y = np.concatenate([a, t[l.b]], axis=0)
        else:
            raise ValueError(f"op {l.op}")
        t.append(y)
    return t[-1]
