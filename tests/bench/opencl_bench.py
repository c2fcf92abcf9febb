#!/usr/bin/env python3
"""OpenCL rows of the engine benchmark: per tier and batch (faces per run), bty-bench --device opencl times whole
frames (every face's input uploaded, the batch run, every output downloaded) and reports the split from OpenCL
profiling events: upload, kernels (first kernel start to last kernel end) and download. Also the start-up: a cold
start (empty program-binary cache: source build) and a warm one (cache hit), each to the first frame out, and the CPU
pipeline on the same batches for comparison. Needs only python3 and bty-bench (the GPU bundle runs it as is).

  opencl_bench.py --bty-bench B --models DIR [--tiers s,m,l] [--batches 1,4,16] [--reads auto] [--reps N]
                  [--cpu-threads N] [--out DIR]
DIR holds beautify-{s,m,l}.bmodel. Writes DIR_OUT/opencl.json and DIR_OUT/opencl.md.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import bty_bench_json as bench, gpu_bench_parser, loadavg, log, model_path  # noqa: E402


def run(a):
    rep = {"loadavg_start": loadavg(), "rows": [], "starts": [], "cpu_rows": [], "layers": [], "errors": []}
    cache = tempfile.mkdtemp(prefix="bty-clbench-")
    try:
        for tier in a.tiers.split(","):
            m = model_path(a.models, tier)
            # Start-up: cold (fresh cache folder), then warm (the entry the cold start wrote). One rep: only the
            # start matters here.
            tdir = os.path.join(cache, f"start-{tier}")
            for kind in ("cold", "warm"):
                try:
                    j = bench(a.bty_bench, ["--model", m, "--device", "opencl", "--cl-cache", tdir, "--reps", 1,
                                            "--warmup", 0, "--cl-reads", a.reads.split(",")[0]])
                    rep["starts"].append({"tier": tier.upper(), "kind": kind, "construct_ms": j["construct_ms"],
                                          "first_frame_ms": j["first_frame_ms"], "build_ms": j["build_ms"],
                                          "cache_hit": j["binary_cache_hit"], "device": j["device_name"]})
                    log(f"{tier} {kind} start: first frame {j['first_frame_ms']:.1f} ms (build {j['build_ms']:.1f} ms,"
                        f" cache hit {j['binary_cache_hit']})")
                except RuntimeError as e:
                    rep["errors"].append(str(e))
                    log(e)
            for reads in a.reads.split(","):
                for b in a.batches:
                    try:
                        j = bench(a.bty_bench, ["--model", m, "--device", "opencl", "--batch", b, "--cl-cache",
                                                os.path.join(cache, "rows"), "--cl-reads", reads, "--reps", a.reps,
                                                "--warmup", 2])
                    except RuntimeError as e:
                        rep["errors"].append(str(e))
                        log(e)
                        continue
                    row = {"tier": tier.upper(), "batch": b, "reads": j["cl_reads"], "wall_ms": j["median_ms"],
                           "upload_ms": j["upload_ms"], "kernels_ms": j["kernels_ms"],
                           "download_ms": j["download_ms"], "device": j["device_name"],
                           "width": j["width"], "height": j["height"], "macs": j["macs"]}
                    rep["rows"].append(row)
                    log(f"{tier} batch {b} {row['reads']}: wall {row['wall_ms']:.3f} ms (up {row['upload_ms']:.3f}, "
                        f"kernels {row['kernels_ms']:.3f}, down {row['download_ms']:.3f})")
            for reads in a.reads.split(",") if a.layer_times else []:
                for b in (1, max(a.batches)):
                    try:
                        j = bench(a.bty_bench, ["--model", m, "--device", "opencl", "--batch", b, "--cl-cache",
                                                os.path.join(cache, "rows"), "--cl-reads", reads, "--reps", a.reps,
                                                "--warmup", 2, "--cl-layer-times"])
                        rep["layers"].append({"tier": tier.upper(), "batch": b, "reads": j["cl_reads"],
                                              "kernels_ms": j["kernels_ms"], "layers": j["layers"]})
                    except RuntimeError as e:
                        rep["errors"].append(str(e))
            if a.cpu_threads > 0:
                for b in a.batches:
                    try:
                        j = bench(a.bty_bench, ["--model", m, "--batch", b, "--threads", a.cpu_threads,
                                                "--reps", a.reps, "--warmup", 1])
                        rep["cpu_rows"].append({"tier": tier.upper(), "batch": b, "threads": a.cpu_threads,
                                                "wall_ms": j["median_ms"], "isa": j["isa"]})
                    except RuntimeError as e:
                        rep["errors"].append(str(e))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    rep["loadavg_end"] = loadavg()
    return rep


def render(rep, command):
    L = ["## OpenCL executor", "", "Reproduce with:", "", "```", command, "```", ""]
    dev = next((r["device"] for r in rep["rows"]), next((s["device"] for s in rep["starts"]), "no device"))
    L.append(f"Device: {dev}. Load average {rep['loadavg_start']} at the start, {rep['loadavg_end']} at the end. "
             "Wall = host clock of one frame: every face's input queued for upload, the batch run, every output "
             "on the host; the split comes from OpenCL profiling events (upload and download summed over faces; "
             "kernels from the first kernel's start to the last kernel's end). Medians over the reps.")
    L += ["", "| net | batch | reads | wall ms | per face ms | upload ms | kernels ms | download ms | CPU pipeline ms |",
          "|---|---|---|---|---|---|---|---|---|"]
    cpu = {(r["tier"], r["batch"]): r for r in rep["cpu_rows"]}
    for r in rep["rows"]:
        c = cpu.get((r["tier"], r["batch"]))
        cpu_ms = f"{c['wall_ms']:.2f} ({c['threads']}T)" if c else "—"
        L.append(f"| {r['tier']} {r['width']}x{r['height']} | {r['batch']} | {r['reads']} | {r['wall_ms']:.3f} | "
                 f"{r['wall_ms'] / r['batch']:.3f} | {r['upload_ms']:.3f} | {r['kernels_ms']:.3f} | "
                 f"{r['download_ms']:.3f} | {cpu_ms} |")
    L += ["", "Start-up (model load + net construction incl. program build or binary-cache load + first frame):", "",
          "| net | start | first frame ms | build/load ms | cache hit |", "|---|---|---|---|---|"]
    for s in rep["starts"]:
        L.append(f"| {s['tier']} | {s['kind']} | {s['first_frame_ms']:.1f} | {s['build_ms']:.1f} | {s['cache_hit']} |")
    if rep["layers"]:
        L += ["", "Per conv kernel (profiling event per kernel, `--cl-layer-times`; the sum is less than the kernels "
              "span by the gaps between launches), microseconds for the whole batch and effective GFLOP/s "
              "(2 x direct-conv MACs x batch / time):", ""]
        for g in rep["layers"]:
            us = [l["median_s"] * 1e6 for l in g["layers"]]
            gf = [2 * l["macs"] * g["batch"] / l["median_s"] / 1e9 if l["median_s"] > 0 else 0 for l in g["layers"]]
            L.append(f"- {g['tier']} batch {g['batch']} {g['reads']}: span {g['kernels_ms'] * 1e3:.0f} us, sum "
                     f"{sum(us):.0f} us; per conv: " + ", ".join(f"{u:.0f} us/{f:.0f}" for u, f in zip(us, gf)))
    if rep["errors"]:
        L += ["", "Errors:", ""] + [f"- `{e[:400]}`" for e in rep["errors"]]
    return "\n".join(L) + "\n"


def main():
    p = gpu_bench_parser(__doc__, reps=20, out="out/bench")
    p.add_argument("--reads", default="auto", help="comma list of auto, local, global")
    p.add_argument("--cpu-threads", type=int, default=0, help="also time the CPU pipeline with N threads (0: no)")
    p.add_argument("--layer-times", action="store_true", help="also per-conv kernel times (batch 1 and the largest)")
    p.add_argument("--command", default=None)
    a = p.parse_args()
    t0 = time.time()
    rep = run(a)
    rep["elapsed_s"] = round(time.time() - t0, 1)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "opencl.json"), "w") as f:
        json.dump(rep, f, indent=1)
    with open(os.path.join(a.out, "opencl.md"), "w") as f:
        f.write(render(rep, a.command or " ".join(sys.argv)))
    print(f"wrote {a.out}/opencl.json and {a.out}/opencl.md in {rep['elapsed_s']} s", file=sys.stderr)
    return 1 if rep["errors"] and not rep["rows"] else 0


if __name__ == "__main__":
    sys.exit(main())
