#!/usr/bin/env python3
"""OpenCL rows of the engine benchmark: per tier and batch (faces per run), bty-bench --device opencl times whole
frames (every face's input uploaded, the batch run, every output downloaded) and reports the split from OpenCL
profiling events: upload, kernels (first kernel start to last kernel end) and download. Also the start-up: a cold
start (empty program-binary cache: source build) and a warm one (cache hit), each to the first frame out, and the CPU
pipeline on the same batches for comparison. Needs only python3 and bty-bench (the GPU bundle runs it as is).
Inputs go as the element sends them (--input i420: 8-bit frame bytes of a ROI --roi-scale x the net input, resampled
on the device, gathered by --host-threads threads as the element's net does with its own threads) and outputs come
back as the element reads them (--cl-output blend: half; convert ms = what a consumer of floats would pay on the
host to convert them, which the element's blend no longer does); the host side of wall is split into the set_input
calls, run()'s copy of the faces' bytes (gather), its queueing of their upload (upload enqueue) and of the kernels
and the download (enqueue). Per tier the largest batch also runs the old path (float input and output) in the same
run. The start rows split the first frame into model load, device discovery (platform), context + queue creation (the
driver), program build or cache load, buffers + weights (setup) and the first frame's run.

  opencl_bench.py --bty-bench B --models DIR [--tiers s,m,l] [--batches 1,4,16] [--reads auto] [--reps N]
                  [--cpu-threads N] [--host-threads N] [--out DIR]
DIR holds beautify-{s,m,l}.bmodel. Writes DIR_OUT/opencl.json and DIR_OUT/opencl.md.

  opencl_bench.py --sweep M:1,L:16 [--sweep-flush 1,2,4,8,0] [--sweep-chunks 1,2,4] [--sweep-queues 1,2] ...
instead times each TIER:BATCH case over the host-side settings, in rounds that alternate them (the order reversed
every other round, so drift hits all alike): --cl-chunks (the parts a batch runs in; values above the batch skipped)
x --cl-flush-every x --cl-part-queues, the defaults first. Writes DIR_OUT/opencl_sweep.json and DIR_OUT/opencl_sweep.md.
"""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import bty_bench_json as bench, gpu_bench_parser, int_list, loadavg, log, model_path  # noqa: E402


def path_args(a):
    return ["--input", a.input, "--roi-scale", a.roi_scale, "--cl-output", a.cl_output, "--threads", a.host_threads]


OLD_PATH = ["--input", "planar", "--cl-output", "float"]


def row_of(tier, j):
    return {"tier": tier.upper(), "batch": j["batch"], "reads": j["cl_reads"], "wall_ms": j["median_ms"],
            "upload_ms": j["upload_ms"], "kernels_ms": j["kernels_ms"], "download_ms": j["download_ms"],
            "convert_ms": j["convert_ms"], "inputs_ms": j.get("inputs_ms", 0), "gather_ms": j.get("gather_ms", 0),
            "upload_enqueue_ms": j.get("upload_enqueue_ms", 0), "enqueue_ms": j.get("enqueue_ms", 0),
            "threads": j["threads"], "chunks": j.get("cl_chunks", 1), "upload_bytes": j["upload_bytes"], "download_bytes": j["download_bytes"],
            "input": j["input"], "cl_output": j["cl_output"], "device": j["device_name"],
            "width": j["width"], "height": j["height"], "macs": j["macs"]}


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
                                            "--warmup", 0, "--cl-reads", a.reads.split(",")[0]] + path_args(a))
                    rep["starts"].append({"tier": tier.upper(), "kind": kind, "cache_hit": j["binary_cache_hit"],
                                          "device": j["device_name"],
                                          **{k: j[k] for k in ("load_ms", "platform_ms", "context_ms", "build_ms",
                                                               "setup_ms", "first_run_ms", "construct_ms",
                                                               "first_frame_ms")}})
                    log(f"{tier} {kind} start: first frame {j['first_frame_ms']:.1f} ms (platform "
                        f"{j['platform_ms']:.1f}, context {j['context_ms']:.1f}, build {j['build_ms']:.1f} ms, "
                        f"setup {j['setup_ms']:.1f}, first run {j['first_run_ms']:.1f}; cache hit "
                        f"{j['binary_cache_hit']})")
                except RuntimeError as e:
                    rep["errors"].append(str(e))
                    log(e)
            for reads in a.reads.split(","):
                for b in a.batches:
                    try:
                        j = bench(a.bty_bench, ["--model", m, "--device", "opencl", "--batch", b, "--cl-cache",
                                                os.path.join(cache, "rows"), "--cl-reads", reads, "--reps", a.reps,
                                                "--warmup", 2] + path_args(a))
                    except RuntimeError as e:
                        rep["errors"].append(str(e))
                        log(e)
                        continue
                    row = row_of(tier, j)
                    rep["rows"].append(row)
                    log(f"{tier} batch {b} {row['reads']}: wall {row['wall_ms']:.3f} ms (up {row['upload_ms']:.3f}, "
                        f"kernels {row['kernels_ms']:.3f}, down {row['download_ms']:.3f}, convert "
                        f"{row['convert_ms']:.3f})")
            # The old path (float input and output) on the largest batch, same run: what the transfers saved.
            try:
                j = bench(a.bty_bench, ["--model", m, "--device", "opencl", "--batch", max(a.batches), "--cl-cache",
                                        os.path.join(cache, "rows"), "--cl-reads", a.reads.split(",")[0], "--reps",
                                        a.reps, "--warmup", 2] + OLD_PATH)
                rep.setdefault("old_rows", []).append(row_of(tier, j))
            except RuntimeError as e:
                rep["errors"].append(str(e))
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


SWEEP_KEYS = ("wall_ms", "upload_ms", "kernels_ms", "download_ms", "inputs_ms", "gather_ms", "upload_enqueue_ms",
              "enqueue_ms")


def sweep_configs(batch, a, default_flush, default_chunks, default_queues):
    """(parts, flush every, compute queues) to time for one case; the defaults (bty-bench's auto parts at this batch)
    first; two compute queues only with more than one part."""
    chunks = [default_chunks] + [c for c in a.sweep_chunks if c != default_chunks and c <= batch]
    flushes = [default_flush] + [f for f in a.sweep_flush if f != default_flush]
    queues = [default_queues] + [q for q in a.sweep_queues if q != default_queues]
    return [(c, f, q) for c in chunks for f in flushes for q in queues if c > 1 or q == default_queues]


def sweep(a, save):
    """Every case's settings in alternating rounds; per setting the median over rounds of each round's medians.
    save(rep) after every round: a run cut short by its time limit still leaves the rounds it finished."""
    rep = {"loadavg_start": loadavg(), "cases": [], "errors": []}
    cache = tempfile.mkdtemp(prefix="bty-clsweep-")
    try:
        cases = [(c.split(":")[0].lower(), int(c.split(":")[1])) for c in a.sweep.split(",")]
        # bty-bench's defaults (NetOptions, auto parts resolved per batch) are the reference setting: asked, not
        # repeated here.
        runs = {}
        for tier, b in cases:
            j = bench(a.bty_bench, ["--model", model_path(a.models, tier), "--device", "opencl", "--batch", b,
                                    "--cl-cache", os.path.join(cache, tier), "--reps", 1, "--warmup", 0] + path_args(a))
            runs.update({(tier, b, cfg): [] for cfg in sweep_configs(b, a, j["cl_flush_every"], j["cl_chunks"],
                                                                      j["cl_part_queues"])})
        order = list(runs)
        for rnd in range(a.sweep_rounds):
            for tier, b, (c, f, q) in order if rnd % 2 == 0 else order[::-1]:
                args = ["--model", model_path(a.models, tier), "--device", "opencl", "--batch", b, "--cl-cache",
                        os.path.join(cache, tier), "--cl-reads", a.reads.split(",")[0], "--reps", a.reps,
                        "--warmup", 5, "--cl-flush-every", f, "--cl-chunks", c, "--cl-part-queues", q] + path_args(a)
                try:
                    j = bench(a.bty_bench, args)
                except RuntimeError as e:
                    rep["errors"].append(str(e))
                    log(e)
                    continue
                runs[(tier, b, (c, f, q))].append({**{k: j.get(k, 0) for k in SWEEP_KEYS}, "wall_ms": j["median_ms"],
                                                   "device": j["device_name"]})
            log(f"sweep round {rnd + 1}/{a.sweep_rounds} done")
            rep["cases"] = []
            for (tier, b, (c, f, q)), rs in runs.items():
                if not rs:
                    continue
                row = {"tier": tier.upper(), "batch": b, "chunks": c, "flush_every": f, "queues": q,
                       "rounds": len(rs), "device": rs[0]["device"], "best_wall_ms": min(r["wall_ms"] for r in rs)}
                row.update({k: statistics.median(r[k] for r in rs) for k in SWEEP_KEYS})
                rep["cases"].append(row)
            rep["loadavg_end"] = loadavg()
            save(rep)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return rep


def render_sweep(rep, a, command):
    L = ["## OpenCL executor: host-side settings", "", "Reproduce with:", "", "```", command, "```", ""]
    dev = next((r["device"] for r in rep["cases"]), "no device")
    L.append(f"Device: {dev}. Load average {rep['loadavg_start']} at the start, {rep.get('loadavg_end')} at the end. "
             f"Each setting ran once per round ({max((r['rounds'] for r in rep['cases']), default=0)} of "
             f"{a.sweep_rounds} rounds done, {a.reps} reps each, the settings' order "
             "reversed every other round); ms = the median over rounds of each round's median, best = the fastest "
             "round's median wall. Settings: parts = `--cl-chunks` (the batch run as that many parts, each gathered, "
             "uploaded, run and downloaded in turn, the transfers on a second queue so they overlap another part's "
             "kernels; 1 = one queue, as before 2026-12-03), flush every = `--cl-flush-every` (a clFlush after every "
             "N-th conv kernel; 0: none before clFinish), queues = `--cl-part-queues` (the compute queues the parts' "
             "kernels alternate over: 2 lets two parts' convs run side by side). Host columns as in the rows above, summed over the parts: "
             "gather = the copy only, upload enq = queueing the upload and its flush, enqueue = the kernels and the "
             "download (and their flushes). Δ = wall minus the default setting's (first row of the case).")
    L += ["", "| net | batch | parts | flush every | queues | wall ms | Δ ms | best ms | kernels ms | upload ms | download ms | "
          "gather ms | upload enq ms | enqueue ms | set_input ms |", "|---|---|---|---|---|---|---|---|---|---|---|---|"
          "---|---|---|"]
    best = {}
    for r in rep["cases"]:
        key = (r["tier"], r["batch"])
        base = best.setdefault(key, {"default": r, "best": r})
        if r["wall_ms"] < base["best"]["wall_ms"]:
            base["best"] = r
        L.append(f"| {r['tier']} | {r['batch']} | {r['chunks']} | {r['flush_every']} | {r['queues']} | "
                 f"{r['wall_ms']:.3f} | "
                 f"{r['wall_ms'] - base['default']['wall_ms']:+.3f} | {r['best_wall_ms']:.3f} | {r['kernels_ms']:.3f} | "
                 f"{r['upload_ms']:.3f} | {r['download_ms']:.3f} | {r['gather_ms']:.3f} | {r['upload_enqueue_ms']:.3f} | {r['enqueue_ms']:.3f} | "
                 f"{r['inputs_ms']:.3f} |")
    L.append("")
    for (tier, b), v in best.items():
        d, o = v["default"], v["best"]
        L.append(f"- {tier} batch {b}: default ({d['chunks']} parts, flush every {d['flush_every']}, {d['queues']} "
                 f"queues) {d['wall_ms']:.3f} ms; best: {o['chunks']} parts, flush every {o['flush_every']}, "
                 f"{o['queues']} queues: {o['wall_ms']:.3f} ms")
    if rep["errors"]:
        L += ["", "Errors:", ""] + [f"- `{e[:400]}`" for e in rep["errors"]]
    return "\n".join(L) + "\n"


def render(rep, command):
    L = ["## OpenCL executor", "", "Reproduce with:", "", "```", command, "```", ""]
    dev = next((r["device"] for r in rep["rows"]), next((s["device"] for s in rep["starts"]), "no device"))
    L.append(f"Device: {dev}. Load average {rep['loadavg_start']} at the start, {rep['loadavg_end']} at the end. "
             "Wall = host clock of one frame: every face's input queued for upload, the batch run, every output "
             "on the host; the split comes from OpenCL profiling events (upload and download summed over faces; "
             "kernels from the first kernel's start to the last kernel's end). Medians over the reps.")
    L.append("Kernels include the input prep kernel (8-bit input). Host side of wall: set_input = the Net::set_input "
             "calls (taps), gather = run() copying every face's tapped bytes into pinned staging on `host T` threads "
             "(the copy only; before the split of 2026-12-03 it also held the upload's queueing), upload enq = "
             "queueing that upload (clEnqueueWriteBufferRect, and its clFlush), enqueue = queueing the kernels and "
             "the download with their flushes (driver calls); the rest of wall is waiting for the device. Convert = the host's half -> float of every face's output as a consumer of floats "
             "would pay it (not in wall; the element's blend reads the halves row by row instead); bytes are per face.")
    L += ["", "| net | batch | reads | input | output | wall ms | per face ms | upload ms | kernels ms | download ms | "
          "set_input ms | gather ms | upload enq ms | enqueue ms | host T | parts | convert ms | up B/face | down B/face | "
          "CPU pipeline ms |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    cpu = {(r["tier"], r["batch"]): r for r in rep["cpu_rows"]}
    for r in rep["rows"] + rep.get("old_rows", []):
        c = cpu.get((r["tier"], r["batch"]))
        cpu_ms = f"{c['wall_ms']:.2f} ({c['threads']}T)" if c else "—"
        L.append(f"| {r['tier']} {r['width']}x{r['height']} | {r['batch']} | {r['reads']} | {r['input']} | "
                 f"{r['cl_output']} | {r['wall_ms']:.3f} | {r['wall_ms'] / r['batch']:.3f} | {r['upload_ms']:.3f} | "
                 f"{r['kernels_ms']:.3f} | {r['download_ms']:.3f} | {r['inputs_ms']:.3f} | {r['gather_ms']:.3f} | "
                 f"{r['upload_enqueue_ms']:.3f} | {r['enqueue_ms']:.3f} | {r['threads']} | {r['chunks']} | "
                 f"{r['convert_ms']:.3f} | "
                 f"{r['upload_bytes'] // r['batch']} | {r['download_bytes'] // r['batch']} | {cpu_ms} |")
    L += ["", "Start-up, ms: model load; device discovery (clGetPlatformIDs, clGetDeviceIDs, queries); context "
          "(clCreateContext + clCreateCommandQueue: the driver's context creation); program build or binary-cache "
          "load; setup (buffers, weights, kernel objects); first run (inputs, run, outputs); first frame = all of "
          "it from the start. The element does all but the model load in the background (docs/element.md).", "",
          "| net | start | load | platform | context | build/load | setup | first run | first frame | cache hit |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for s in rep["starts"]:
        L.append(f"| {s['tier']} | {s['kind']} | {s['load_ms']:.1f} | {s['platform_ms']:.1f} | {s['context_ms']:.1f} | "
                 f"{s['build_ms']:.1f} | {s['setup_ms']:.1f} | {s['first_run_ms']:.1f} | {s['first_frame_ms']:.1f} | "
                 f"{s['cache_hit']} |")
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
    p.add_argument("--host-threads", type=int, default=1,
                   help="bty-bench --threads for the OpenCL rows: the threads that gather the faces' bytes (the "
                   "element gives its OpenCL net its own threads, by default one per CPU)")
    p.add_argument("--layer-times", action="store_true", help="also per-conv kernel times (batch 1 and the largest)")
    p.add_argument("--input", default="i420", choices=["planar", "rgb", "i420"], help="bty-bench --input")
    p.add_argument("--roi-scale", type=float, default=2.0,
                   help="ROI / net input size (2: a face about 300 px wide at tier L, e.g. a 1080p webcam)")
    p.add_argument("--cl-output", default="blend", choices=["float", "half", "blend"], help="bty-bench --cl-output")
    p.add_argument("--sweep", default="", help="TIER:BATCH comma list: time the host-side settings instead (above)")
    p.add_argument("--sweep-flush", default="1,2,4,8,0", type=int_list, help="--cl-flush-every values to sweep")
    p.add_argument("--sweep-chunks", default="1,2,4", type=int_list, help="--cl-chunks values to sweep")
    p.add_argument("--sweep-queues", default="1,2", type=int_list, help="--cl-part-queues values to sweep")
    p.add_argument("--sweep-rounds", type=int, default=3)
    p.add_argument("--command", default=None)
    a = p.parse_args()
    t0 = time.time()
    if a.sweep:
        def save(rep):
            rep["elapsed_s"] = round(time.time() - t0, 1)
            os.makedirs(a.out, exist_ok=True)
            with open(os.path.join(a.out, "opencl_sweep.json"), "w") as f:
                json.dump(rep, f, indent=1)
            with open(os.path.join(a.out, "opencl_sweep.md"), "w") as f:
                f.write(render_sweep(rep, a, a.command or " ".join(sys.argv)))
            print(f"wrote {a.out}/opencl_sweep.json and .md in {rep['elapsed_s']} s", file=sys.stderr)
        rep = sweep(a, save)
        return 1 if rep["errors"] and not rep["cases"] else 0
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
