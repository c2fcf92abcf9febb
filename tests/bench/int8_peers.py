"""The peers in int8 (issue 9: "peers at their best too"), each quantised with its own tools and calibrated on the
crops our calibrate_int8.py uses (models/beautynet/int8.calibration_inputs; passed in as an (N, 3, H, W) float32
array), behind peers.py's interface with the crops as one more constructor argument:
- ONNX Runtime: onnxruntime.quantization.quantize_static, QDQ format, int8 weights per output channel, uint8
  activations, MinMax calibration; weights in 7 bits (reduce_range) on a CPU without VNNI, as ONNX Runtime advises:
  its AVX2 u8 x s8 products (vpmaddubsw) saturate in 16 bits with full-range weights (81.9 % of M's output pixels
  off by more than one code value here, largest 42, with 8-bit weights on an AVX2-only EPYC);
- OpenVINO: NNCF's post-training quantisation (nncf.quantize, performance preset) of the model OpenVINO reads. NNCF
  runs in a child process without torch: Debian's torch 1.13 is older than NNCF's torch backend accepts, and its
  OpenVINO path needs none;
- ncnn: int8 scales in the exported model (export_ncnn.py: what ncnn2int8 writes from ncnn2table's table, with the
  maximum as the calibration method); each conv's input magnitude is the maximum over the same crops, from the
  .bmodel's own version-3 calibration (calibrate_int8.py on those crops; the net input's from the crops).
"""
import os
import subprocess
import sys

import numpy as np

import export_ncnn
import export_onnx
import peers
from bmodel_reader import CONV


def _has_vnni():
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    return "avx512_vnni" in flags or "avx_vnni" in flags


def _onnx_int8(model, width, height, workdir, crops):
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    path = os.path.join(workdir, f"{model.tier}_{width}x{height}.qdq.onnx")
    if os.path.exists(path):
        return path

    class Crops(CalibrationDataReader):
        def __init__(self):
            self.it = iter(crops)

        def get_next(self):
            x = next(self.it, None)
            return None if x is None else {export_onnx.INPUT: np.ascontiguousarray(x[None], np.float32)}

    quantize_static(peers.onnx_path(model, width, height, workdir), path, Crops(), quant_format=QuantFormat.QDQ,
                    per_channel=True, reduce_range=not _has_vnni(), activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
    # (every crop's intermediate outputs are kept: ~2-3 GB for M / L. CalibMaxIntermediateOutputs would bound it,
    # but ONNX Runtime 1.32 then fails with "No data is collected" when the crop count is a multiple of it)
    return path


class _Calibrated:
    """A peer runner with the calibration crops as one more constructor argument."""

    def __init__(self, model, width, height, threads, workdir, crops):
        self.crops = crops
        super().__init__(model, width, height, threads, workdir)


class OnnxRuntimeInt8(_Calibrated, peers.OnnxRuntime):
    NAME = "onnxruntime-int8"

    def _model_file(self, model, width, height, workdir):
        return _onnx_int8(model, width, height, workdir, self.crops)


class OpenVinoInt8(_Calibrated, peers.OpenVino):
    NAME = "openvino-int8"

    def _model_file(self, model, width, height, workdir):
        xml = os.path.join(workdir, f"{model.tier}_{width}x{height}.nncf.xml")
        if not os.path.exists(xml):
            npy = os.path.join(workdir, f"{model.tier}_{width}x{height}.crops.npy")
            np.save(npy, np.ascontiguousarray(self.crops, np.float32))
            _child(["--nncf", peers.onnx_path(model, width, height, workdir), npy, xml])
        return xml


class NcnnInt8(peers.Ncnn):
    NAME = "ncnn-int8"
    INT8 = True

    def __init__(self, model, width, height, threads, workdir, crops):
        self.input_max = []
        for l in model.layers:
            if l.op != CONV:
                continue
            if l.a == 0:
                self.input_max.append(float(np.abs(crops).max()))
            elif l.input_max is not None:
                self.input_max.append(float(l.input_max.max()))
            else:
                raise RuntimeError(f"{model.path}: a conv without int8 calibration (run "
                                   "models/beautynet/calibrate_int8.py on it first)")
        super().__init__(model, width, height, threads, workdir)

    def _export(self, model, width, height, workdir):
        param = os.path.join(workdir, f"{model.tier}_{width}x{height}.int8.param")
        binp = os.path.join(workdir, f"{model.tier}.ncnn-int8.bin")
        return export_ncnn.export(model, param, binp, width, height, self.input_max)


ALL = [OnnxRuntimeInt8, OpenVinoInt8, NcnnInt8]


def nncf_version():
    return _child(["--nncf-version"]).strip()


def _child(args):
    """This file run as a child process (NNCF without torch); its stdout."""
    p = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"NNCF child {' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-1500:]}")
    return p.stdout


def _nncf_main(argv):
    sys.modules["torch"] = None  # NNCF then leaves its torch backend out (see the opening comment)
    import nncf
    if argv[0] == "--nncf-version":
        print(nncf.__version__)
        return
    import openvino as ov
    onnx_path, npy, xml = argv[1:4]
    crops = np.load(npy)
    q = nncf.quantize(ov.Core().read_model(onnx_path), nncf.Dataset(list(crops), lambda x: x[None]),
                      preset=nncf.QuantizationPreset.PERFORMANCE, subset_size=len(crops))
    ov.save_model(q, xml)


if __name__ == "__main__":
    _nncf_main(sys.argv[1:])
