"""Exports a .bmodel to ncnn's text .param and binary .bin, written by hand (no converter tool).

.param: the magic line 7767517, "layer_count blob_count", then one line per layer:
    type name bottom_count top_count bottoms... tops... key=value...
Layers used: Input; Convolution (0=num_output 1=kernel 3=stride 4=pad 5=bias_term 6=weight_data_size 9=activation,
1 = ReLU fused); TanH for the head; Interp (0=1 nearest, 1/2 = height/width scale 2.0); Concat (0=0, the channel
axis). ncnn wants one consumer per blob, so a tensor read twice (the skips) goes through a Split.
.bin: per Convolution, in layer order, a 4-byte zero tag (raw float32 follows) + OIHW weights, then the biases raw.
int8 (input_max given: one float per conv, its input's largest magnitude): every Convolution gets 8=2
(int8_scale_term) and its .bin record two more raw arrays, what ncnn2int8 would write from ncnn2table's table: the
weight scales 127 / max|w| per output channel and the input scale 127 / input_max; with opt.use_int8_inference
ncnn quantises the float weights when it loads them (ncnn's quantisation tools are not in its PyPI wheel).
"""
import struct

import numpy as np

from bmodel_reader import ACT_RELU, ACT_TANH, CONCAT, CONV, UPSAMPLE

MAGIC = 7767517
INPUT, OUTPUT = "input", "output"


def build(model, width=None, height=None, input_max=None):
    """Returns (param text, bin bytes); input_max: None (float32) or one input magnitude per conv (int8)."""
    width, height = width or model.width, height or model.height
    n = len(model.layers)
    names = [INPUT] + [f"t{i + 1}" for i in range(n)]
    names[-1] = OUTPUT
    users = model.consumers()
    # Which name each consumer reads of each tensor (split outputs where a tensor has several readers).
    read_name = {}
    lines = [f"Input {INPUT} 0 1 {INPUT} 0={width} 1={height} 2=3"]
    blobs = {INPUT}
    weights = bytearray()

    def emit_split(t):
        if len(users[t]) > 1:
            outs = [f"{names[t]}_s{k}" for k in range(len(users[t]))]
            lines.append(f"Split split{t} 1 {len(outs)} {names[t]} " + " ".join(outs))
            blobs.update(outs)
            for k, u in enumerate(users[t]):
                read_name.setdefault((t, u), []).append(outs[k])
        else:
            for u in users[t]:
                read_name.setdefault((t, u), []).append(names[t])

    def src(t, i):
        return read_name[(t, i)].pop(0)

    emit_split(0)
    convs = 0
    for i, l in enumerate(model.layers):
        dst = names[i + 1]
        if l.op == CONV:
            a = src(l.a, i)
            oc, ic = l.weight.shape[:2]
            act = 1 if l.act == ACT_RELU else 0
            conv_out = f"c{i}" if l.act == ACT_TANH else dst
            lines.append(f"Convolution conv{i} 1 1 {a} {conv_out} 0={oc} 1=3 11=3 2=1 12=1 3={l.stride} "
                         f"13={l.stride} 4=1 14=1 15=1 16=1 5=1 6={oc * ic * 9} 9={act}"
                         + (" 8=2" if input_max is not None else ""))
            blobs.add(conv_out)
            if l.act == ACT_TANH:
                lines.append(f"TanH tanh{i} 1 1 {conv_out} {dst}")
            weights += struct.pack("<I", 0)
            weights += np.ascontiguousarray(l.weight, "<f4").tobytes()
            weights += np.ascontiguousarray(l.bias, "<f4").tobytes()
            if input_max is not None:
                wmax = np.abs(l.weight).reshape(oc, -1).max(1)
                weights += np.where(wmax > 0, 127.0 / np.maximum(wmax, 1e-30), 1.0).astype("<f4").tobytes()
                weights += np.array([127.0 / max(float(input_max[convs]), 1e-30)], "<f4").tobytes()
            convs += 1
        elif l.op == UPSAMPLE:
            a = src(l.a, i)
            lines.append(f"Interp up{i} 1 1 {a} {dst} 0=1 1=2.000000e+00 2=2.000000e+00")
        elif l.op == CONCAT:
            a, b = src(l.a, i), src(l.b, i)
            lines.append(f"Concat cat{i} 2 1 {a} {b} {dst} 0=0")
        blobs.add(dst)
        emit_split(i + 1)
    text = f"{MAGIC}\n{len(lines)} {len(blobs)}\n" + "\n".join(lines) + "\n"
    return text, bytes(weights)


def export(model, param_path, bin_path, width=None, height=None, input_max=None):
    text, blob = build(model, width, height, input_max)
    with open(param_path, "w") as f:
        f.write(text)
    with open(bin_path, "wb") as f:
        f.write(blob)
    return param_path, bin_path
