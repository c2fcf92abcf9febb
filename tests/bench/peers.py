"""Peer engines behind one interface: load the exported model at one input size and thread count, run one input,
time repeated runs. All in FP32, all with the thread count set the way each engine documents it.

Each runner: NAME; version(); Runner(model, width, height, threads, workdir); .run(x) -> CHW float32 output;
.time(reps) -> list of milliseconds (the input set by the last run(), only the inference call timed).
"""
import os
import time

import numpy as np

import export_ncnn
import export_onnx


def onnx_path(model, width, height, workdir):
    p = os.path.join(workdir, f"{model.tier}_{width}x{height}.onnx")
    if not os.path.exists(p):
        export_onnx.export(model, p, width, height)
    return p


class OnnxRuntime:
    NAME = "onnxruntime"

    @staticmethod
    def version():
        import onnxruntime
        return onnxruntime.__version__

    def __init__(self, model, width, height, threads, workdir):
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.log_severity_level = 3
        self.sess = ort.InferenceSession(self._model_file(model, width, height, workdir), so,
                                         providers=["CPUExecutionProvider"])
        self.x = None

    def _model_file(self, model, width, height, workdir):  # int8_peers.py: the quantised model instead
        return onnx_path(model, width, height, workdir)

    def run(self, x):
        self.x = {export_onnx.INPUT: np.ascontiguousarray(x[None], np.float32)}
        return self.sess.run(None, self.x)[0][0]

    def time(self, reps):
        out = []
        for _ in range(reps):
            t0 = time.perf_counter()
            self.sess.run(None, self.x)
            out.append((time.perf_counter() - t0) * 1e3)
        return out


class OpenVino:
    NAME = "openvino"

    @staticmethod
    def version():
        import openvino
        return openvino.__version__.split("-")[0]

    def __init__(self, model, width, height, threads, workdir):
        import openvino as ov
        core = ov.Core()
        config = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
            "INFERENCE_PRECISION_HINT": "f32",
        }
        self.compiled = core.compile_model(core.read_model(self._model_file(model, width, height, workdir)), "CPU",
                                           config)
        self.req = self.compiled.create_infer_request()
        self.ov = ov

    def _model_file(self, model, width, height, workdir):
        return onnx_path(model, width, height, workdir)

    def run(self, x):
        self.x = np.ascontiguousarray(x[None], np.float32)
        self.req.set_input_tensor(self.ov.Tensor(self.x, shared_memory=True))
        self.req.infer()
        return np.array(self.req.get_output_tensor().data[0], copy=True)

    def time(self, reps):
        out = []
        for _ in range(reps):
            t0 = time.perf_counter()
            self.req.infer()
            out.append((time.perf_counter() - t0) * 1e3)
        return out


class Ncnn:
    NAME = "ncnn"
    INT8 = False  # int8_peers.NcnnInt8: ncnn's int8 inference on a model with int8 scales

    @staticmethod
    def version():
        import ncnn
        return ncnn.__version__

    def __init__(self, model, width, height, threads, workdir):
        import ncnn
        param, binp = self._export(model, width, height, workdir)
        net = ncnn.Net()
        o = net.opt
        o.num_threads = threads
        o.use_vulkan_compute = False
        # FP32 throughout (int8 convs for NcnnInt8), like every other engine here (ncnn may otherwise store fp16/bf16
        # on x86).
        o.use_fp16_storage = False
        o.use_fp16_packed = False
        o.use_fp16_arithmetic = False
        o.use_bf16_storage = False
        o.use_int8_inference = self.INT8
        o.use_packing_layout = True
        o.use_winograd_convolution = True
        o.use_sgemm_convolution = True
        o.lightmode = True
        if net.load_param(param) != 0 or net.load_model(binp) != 0:
            raise RuntimeError(f"ncnn could not load {param}")
        self.ncnn, self.net, self.threads = ncnn, net, threads

    def _export(self, model, width, height, workdir):
        param = os.path.join(workdir, f"{model.tier}_{width}x{height}.param")
        binp = os.path.join(workdir, f"{model.tier}.ncnn.bin")
        return export_ncnn.export(model, param, binp, width, height)

    def _once(self):
        ex = self.net.create_extractor()
        ex.input(export_ncnn.INPUT, self.mat)
        ret, out = ex.extract(export_ncnn.OUTPUT)
        if ret != 0:
            raise RuntimeError(f"ncnn extract failed: {ret}")
        return out

    def run(self, x):
        self.x = np.ascontiguousarray(x, np.float32)
        self.mat = self.ncnn.Mat(self.x)
        return np.array(self._once(), copy=True)

    def time(self, reps):
        out = []
        for _ in range(reps):
            t0 = time.perf_counter()
            self._once()
            out.append((time.perf_counter() - t0) * 1e3)
        return out


class OpenCvDnn:
    NAME = "opencv-dnn"

    @staticmethod
    def version():
        import cv2
        return cv2.__version__

    def __init__(self, model, width, height, threads, workdir):
        import cv2
        self.cv2, self.threads = cv2, threads
        self.net = cv2.dnn.readNetFromONNX(onnx_path(model, width, height, workdir))
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)

    def run(self, x):
        self.cv2.setNumThreads(self.threads)  # process-wide: set again before every use
        self.net.setInput(np.ascontiguousarray(x[None], np.float32))
        return np.array(self.net.forward()[0], copy=True)

    def time(self, reps):
        self.cv2.setNumThreads(self.threads)
        out = []
        for _ in range(reps):
            t0 = time.perf_counter()
            self.net.forward()
            out.append((time.perf_counter() - t0) * 1e3)
        return out


ALL = [OnnxRuntime, OpenVino, Ncnn, OpenCvDnn]


def available():
    """{name: (class, version)} for the peers that import; {name: error} for those that do not."""
    ok, missing = {}, {}
    for cls in ALL:
        try:
            ok[cls.NAME] = (cls, cls.version())
        except Exception as e:  # noqa: BLE001 - a peer that fails to import is reported, not fatal
            missing[cls.NAME] = f"{type(e).__name__}: {e}"
    return ok, missing
