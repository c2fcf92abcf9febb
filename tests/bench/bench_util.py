"""What the benchmark drivers share: running bty-bench and reading its JSON, the machine's load, the shipped
models' file names and the GPU benches' common command line. Standard library only: the GPU bundle runs
opencl_bench.py with a bare python3."""
import argparse
import json
import os
import subprocess
import sys


class BtyBenchError(RuntimeError):
    pass


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def run_bty_bench(binary, args, timeout=900):
    """bty-bench's stdout; BtyBenchError with the tail of its stderr when it fails."""
    cmd = [binary] + [str(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        raise BtyBenchError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p.stdout


def bty_bench_json(binary, args, timeout=900):
    """The one JSON object bty-bench prints (stray lines around it are tolerated)."""
    out = run_bty_bench(binary, args, timeout)
    start, end = out.find("{"), out.rfind("}")
    if start < 0 or end < start:
        raise BtyBenchError(f"bty-bench printed no JSON object: {out[:500]!r}")
    return json.loads(out[start:end + 1])


def model_path(models, tier):
    """beautify-<tier>.bmodel (shipped models) or <TIER>.bmodel (test models) in the folder models."""
    for name in (f"beautify-{tier.lower()}.bmodel", f"{tier.upper()}.bmodel"):
        p = os.path.join(models, name)
        if os.path.exists(p):
            return p
    raise SystemExit(f"no beautify-{tier.lower()}.bmodel or {tier.upper()}.bmodel in {models}")


def int_list(text):
    return [int(v) for v in text.split(",")]


def gpu_bench_parser(doc, reps, out):
    """The options opencl_bench.py and torch_peer.py share: bty-bench, the models, tiers, batches, reps, out."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bty-bench", required=True)
    p.add_argument("--models", required=True, help="the folder with beautify-{s,m,l}.bmodel")
    p.add_argument("--tiers", default="s,m,l")
    p.add_argument("--batches", default="1,4,16", type=int_list, help="faces per run, comma list")
    p.add_argument("--reps", type=int, default=reps)
    p.add_argument("--out", default=out)
    return p
