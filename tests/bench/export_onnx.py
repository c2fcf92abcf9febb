"""Exports a .bmodel's graph and weights to ONNX (opset 13) with a fixed input shape, for ONNX Runtime, OpenVINO and
OpenCV DNN. Conv (pads 1, strides 1/2, bias) then Relu/Tanh; nearest x2 as Resize (asymmetric, floor: out[y] =
in[y/2], exactly the engine's upsample); concat as Concat on axis 1. Weights are the file's OIHW floats as they are.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bmodel_reader import ACT_RELU, ACT_TANH, CONCAT, CONV, UPSAMPLE

OPSET = 13
INPUT, OUTPUT = "input", "output"


def build(model, width=None, height=None):
    width, height = width or model.width, height or model.height
    ch, sz = model.channels(), model.sizes(width, height)
    names = [INPUT] + [f"t{i + 1}" for i in range(len(model.layers))]
    names[-1] = OUTPUT
    nodes, inits = [], []
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "up_scales")
    used_scales = False
    for i, l in enumerate(model.layers):
        src, dst = names[l.a], names[i + 1]
        if l.op == CONV:
            wn, bn = f"w{i}", f"b{i}"
            inits += [numpy_helper.from_array(np.ascontiguousarray(l.weight, np.float32), wn),
                      numpy_helper.from_array(np.ascontiguousarray(l.bias, np.float32), bn)]
            conv_out = dst if l.act not in (ACT_RELU, ACT_TANH) else f"c{i}"
            nodes.append(helper.make_node("Conv", [src, wn, bn], [conv_out], name=f"conv{i}", kernel_shape=[3, 3],
                                          pads=[1, 1, 1, 1], strides=[l.stride, l.stride], dilations=[1, 1], group=1))
            if l.act == ACT_RELU:
                nodes.append(helper.make_node("Relu", [conv_out], [dst], name=f"relu{i}"))
            elif l.act == ACT_TANH:
                nodes.append(helper.make_node("Tanh", [conv_out], [dst], name=f"tanh{i}"))
        elif l.op == UPSAMPLE:
            used_scales = True
            nodes.append(helper.make_node("Resize", [src, "", "up_scales"], [dst], name=f"up{i}", mode="nearest",
                                          coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
        elif l.op == CONCAT:
            nodes.append(helper.make_node("Concat", [src, names[l.b]], [dst], name=f"cat{i}", axis=1))
    if used_scales:
        inits.append(scales)
    ow, oh = sz[-1]
    graph = helper.make_graph(
        nodes, f"beautynet-{model.tier}",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [1, 3, height, width])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [1, ch[-1], oh, ow])],
        inits)
    m = helper.make_model(graph, producer_name="gst-beautify-bench",
                          opset_imports=[helper.make_opsetid("", OPSET)])
    m.ir_version = 7  # opset 13's IR; every peer here reads it
    onnx.checker.check_model(m)
    return m


def export(model, path, width=None, height=None):
    m = build(model, width, height)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())
    return path
