"""Our engine through its standalone bench binary, bty-bench (one subprocess per call, JSON on stdout)."""
import os

import numpy as np

from bench_util import BtyBenchError, bty_bench_json, run_bty_bench

# Variants: an executor, and "-bf16" for the same executor with bf16 products (bty-bench --precision bf16: AMX tiles
# where the CPU grants them, else AVX512-BF16 dot products; reported with its own tolerance, since it is not meant to
# match fp32 to 1e-3), "-int8" with int8 on AVX512-VNNI for the calibrated convs (int8_bench.py).
EXECUTORS = ("reference", "layered", "pipeline", "pipeline-bf16")


def _variant(executor):
    """bty-bench arguments of a variant name."""
    for prec in ("bf16", "int8"):
        if executor.endswith("-" + prec):
            return ["--executor", executor[:-len(prec) - 1], "--precision", prec]
    return ["--executor", executor, "--precision", "fp32"]


class Ours:
    def __init__(self, binary):
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise BtyBenchError(f"{binary}: not found or not executable (is the engine built?)")
        self.binary = binary

    def _run(self, args, timeout=600):
        return run_bty_bench(self.binary, args, timeout)

    def _json(self, args):
        return bty_bench_json(self.binary, args)

    def bench(self, model_path, width, height, threads, executor, reps, warmup):
        return self._json(["--model", model_path, "--width", width, "--height", height, "--threads", threads,
                           *_variant(executor), "--reps", reps, "--warmup", warmup])

    def peak(self, threads):
        return self._json(["--peak", "--threads", threads])

    def dump(self, model_path, width, height, executor, x, workdir, out_shape, threads=1):
        """Runs once on the CHW float32 input x; returns the CHW float32 output."""
        tag = f"{os.path.basename(model_path)}_{width}x{height}_{executor}_{threads}"
        inp = os.path.join(workdir, f"in_{tag}.f32")
        out = os.path.join(workdir, f"out_{tag}.f32")
        np.ascontiguousarray(x, "<f4").tofile(inp)
        if os.path.exists(out):
            os.remove(out)
        self._run(["--model", model_path, "--width", width, "--height", height, "--threads", threads,
                   *_variant(executor), "--input-planar", inp, "--dump-output", out])
        y = np.fromfile(out, "<f4")
        if y.size != int(np.prod(out_shape)):
            raise BtyBenchError(f"{out}: {y.size} floats, expected {out_shape}")
        return y.reshape(out_shape)
