#!/usr/bin/env python3
"""Engine benchmark driver (scripts/bench engine runs it): our engine's three executors against ONNX Runtime,
OpenVINO, ncnn and OpenCV DNN on the same weights, in one run, in alternating rounds.

Per net x input size x threads:
  1. every peer loads our weights exported to its format and runs the same seeded random input; its output is
     compared with ours (bty-bench --dump-output; the reference executor at the tier size, the pipeline at the large
     size) and a peer further than --tol away is reported as disagreeing and not timed;
  2. calibration: one warm run per engine sizes its reps per round to about --round-seconds;
  3. --rounds rounds, each running every engine in turn (the order rotates every round), each engine's batch after
     one discarded warm-up; the figure is the median of all its reps.
Our executors run as one bty-bench subprocess per round. The FP32 FMA peak is measured by bty-bench --peak at the
start and the end (the higher is kept). Writes <out>/engine.json and <out>/engine.md.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bmodel_reader  # noqa: E402
import numpy_ref  # noqa: E402
import peers  # noqa: E402
import workingset  # noqa: E402
from bench_util import BtyBenchError, loadavg, log  # noqa: E402
from ours import EXECUTORS, Ours  # noqa: E402

QUIET = 0.25  # cores' worth of other processes' CPU below which a batch counts as quiet
PEER_ORDER = [c.NAME for c in peers.ALL]
OURS = [f"ours-{e}" for e in EXECUTORS]


def parse_sizes(text):
    out = []
    for s in text.split(","):
        s = s.strip()
        if s == "tier":
            out.append(None)
        else:
            w, h = (int(v) for v in s.lower().split("x"))
            if w % 16 or h % 16:
                raise SystemExit(f"size {s}: width and height must be multiples of 16")
            out.append((w, h))
    return out


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


class ForeignLoad:
    """CPU used by everything but this process and its children while timing: cores' worth, averaged."""

    def __init__(self):
        self.t0, self.busy0, self.own0 = time.time(), self._busy(), self._own()

    @staticmethod
    def _busy():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            idle = v[3] + (v[4] if len(v) > 4 else 0)
            return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None

    @staticmethod
    def _own():
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def cores(self):
        busy = self._busy()
        wall = time.time() - self.t0
        if busy is None or self.busy0 is None or wall <= 0:
            return None
        return max(0.0, (busy - self.busy0 - (self._own() - self.own0)) / wall)


def maxdiff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)))


class Engine:
    """One timed engine in one configuration: calibrate(), then batch(reps) per round."""

    def __init__(self, name, fn_time):
        self.name, self.fn_time = name, fn_time
        self.times, self.reps, self.error, self.batches = [], 1, None, []

    def calibrate(self, round_s, min_reps, max_reps):
        t = min(self.fn_time(2, True))
        self.reps = int(max(min_reps, min(max_reps, round(round_s / max(t, 1e-3) * 1e3))))
        return t


def run_config(args, ours, model, mpath, tier_size, width, height, threads, avail, workdir, x, ref_out):
    """Times every engine at one net x size x threads. Returns the result record."""
    rec = {"loadavg_start": loadavg(), "net": model.tier.replace("test-", ""), "model_tier_field": model.tier, "width": width, "height": height,
           "megapixels": round(width * height / 1e6, 3), "threads": threads, "macs": model.macs(width, height),
           "median_ms": {}, "median_ms_quiet": {}, "batches": {}, "reps": {}, "times_ms": {}, "max_abs_diff": {}, "valid": {}, "errors": {},
           "working_set_bytes": {}, "layers": []}
    out_shape = model.head_shape(width, height)
    engines = []

    # --- ours ---
    layer_rounds = []
    if ours is not None:
        for ex in EXECUTORS:
            name = f"ours-{ex}"
            if ex == "reference" and (not tier_size or threads != 1):
                continue  # scalar oracle: only at the tier's own size, 1 thread
            try:
                y = ours.dump(mpath, width, height, ex, x, workdir, out_shape, threads)
                d = maxdiff(y, ref_out)
                rec["max_abs_diff"][name] = d
                rec["valid"][name] = bool(d <= (args.bf16_tol if ex.endswith("-bf16") else args.tol))
            except BtyBenchError as e:
                rec["errors"][name] = str(e)
                log(f"    {name}: {e}")
                continue

            def fn(reps, warm, ex=ex, name=name):
                j = ours.bench(mpath, width, height, threads, ex, reps, 1)
                rec["working_set_bytes"][name] = j.get("working_set_bytes")
                rec.setdefault("isa", j.get("isa"))
                if ex == "layered" and j.get("layers") and not warm:
                    layer_rounds.append(j["layers"])
                return [float(t) for t in j["times_ms"]]
            engines.append(Engine(name, fn))

    # --- peers ---
    for pname in PEER_ORDER:
        if pname not in avail:
            continue
        cls = avail[pname][0]
        try:
            r = cls(model, width, height, threads, workdir)
            y = r.run(x)
        except Exception as e:  # noqa: BLE001 - a peer that cannot load or run is reported, not fatal
            rec["errors"][pname] = f"{type(e).__name__}: {e}"
            log(f"    {pname}: {rec['errors'][pname]}")
            continue
        d = maxdiff(y, ref_out)
        rec["max_abs_diff"][pname] = d
        rec["valid"][pname] = bool(d <= args.tol)
        if not rec["valid"][pname]:
            log(f"    {pname}: output differs from ours by {d:.3g} > {args.tol}: not timed")
            continue

        def fn(reps, warm, r=r):
            r.time(1)  # discarded warm-up: every engine starts its batch after one warm run
            return r.time(reps)
        engines.append(Engine(pname, fn))

    # --- calibrate, then alternate ---
    for e in engines:
        try:
            t = e.calibrate(args.round_seconds, args.min_reps, args.max_reps)
            if e.name == "ours-reference":
                e.reps = max(1, min(e.reps, args.reference_reps))
            log(f"    {e.name:16s} ~{t:8.2f} ms  x{e.reps}/round")
        except Exception as ex:  # noqa: BLE001
            e.error = f"{type(ex).__name__}: {ex}"
            rec["errors"][e.name] = e.error
            log(f"    {e.name}: {e.error}")
    live = [e for e in engines if e.error is None]
    fl = ForeignLoad()
    for rnd in range(args.rounds):
        k = rnd % max(1, len(live))
        for e in live[k:] + live[:k]:
            if e.error:
                continue
            try:
                fb = ForeignLoad()
                t = e.fn_time(e.reps, False)
                e.times += t
                e.batches.append({"round": rnd, "other_cores": fb.cores(), "median_ms": statistics.median(t),
                                  "reps": len(t)})
            except Exception as ex:  # noqa: BLE001
                e.error = f"{type(ex).__name__}: {ex}"
                rec["errors"][e.name] = e.error
                log(f"    {e.name}: {e.error}")
    rec["foreign_cores"] = fl.cores()
    for e in live:
        if e.times and not e.error:
            rec["median_ms"][e.name] = statistics.median(e.times)
            rec["reps"][e.name] = len(e.times)
            rec["times_ms"][e.name] = [round(t, 4) for t in e.times]
            rec["batches"][e.name] = e.batches
            # Secondary figure: only the batches during which other processes used under QUIET cores.
            quiet = [b for b in e.batches if b["other_cores"] is not None and b["other_cores"] < QUIET]
            if quiet and len(quiet) * 2 >= len(e.batches):
                rec["median_ms_quiet"][e.name] = statistics.median(b["median_ms"] for b in quiet)

    # --- per-layer (our layered executor): median over rounds of the per-round medians ---
    if layer_rounds:
        layer_macs = model.layer_macs(width, height)
        convs = model.conv_indices()
        ch, sz = model.channels(), model.sizes(width, height)
        first = layer_rounds[0]
        # "index" is either the layer-table index or the ordinal among convs: whichever the MACs agree with.
        by_table = all(layer_macs.get(l["index"]) == int(l["macs"]) for l in first)
        for pos, l in enumerate(first):
            idx = l["index"] if by_table else convs[l["index"]] if l["index"] < len(convs) else None
            secs = [lr[pos]["median_s"] for lr in layer_rounds if pos < len(lr)]
            med = statistics.median(secs)
            macs = int(l["macs"])
            entry = {"index": l["index"], "macs": macs, "median_s": med,
                     "gmacs": (macs / med / 1e9) if med > 0 else None, "median_s_per_round": secs}
            if idx is not None:
                ly = model.layers[idx]
                entry.update(layer=idx, stride=ly.stride, cin=ch[ly.a], cout=ly.out_channels,
                             out_w=sz[idx + 1][0], out_h=sz[idx + 1][1], desc=ly.describe(ch[ly.a]),
                             macs_computed=layer_macs.get(idx))
            rec["layers"].append(entry)

    rec["loadavg_end"] = loadavg()

    # --- working set: peers hold whole feature maps ---
    rec["working_set_bytes"]["layer-by-layer, whole maps (computed)"] = workingset.live_bytes(model, width, height)
    rec["working_set_bytes"]["layer-by-layer, whole maps, upsample/concat folded (computed)"] = \
        workingset.live_bytes(model, width, height, folded=True)
    return rec


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bty-bench", help="path to bty-bench; without it only the peers run (--peers-only)")
    p.add_argument("--models", help="folder with S.bmodel, M.bmodel, L.bmodel")
    p.add_argument("--tiers", default="S,M,L")
    p.add_argument("--sizes", default="tier,896x1152", help="'tier' = the tier's own input size, or WxH")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--round-seconds", type=float, default=0.6, help="target time per engine per round")
    p.add_argument("--min-reps", type=int, default=2)
    p.add_argument("--max-reps", type=int, default=200)
    p.add_argument("--reference-reps", type=int, default=2, help="reps per round cap for the scalar reference")
    p.add_argument("--tol", type=float, default=1e-3, help="max abs output difference for a peer to count")
    p.add_argument("--bf16-tol", type=float, default=0.05,
                   help="the same for our bf16 variant (tanh outputs; the element-level bound is 1 code value)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default="out/bench")
    p.add_argument("--command", default=None, help="the command line that reproduces this run (for the report)")
    p.add_argument("--engine-rev", default=None, help="which engine source bty-bench was built from (for the report)")
    p.add_argument("--quick", action="store_true", help="3 rounds of ~0.2 s per engine, 1 rep minimum")
    p.add_argument("--render", metavar="JSON", help="only re-render engine.md from an engine.json")
    args = p.parse_args()
    if args.render:
        import report_md
        with open(args.render) as f:
            rep = json.load(f)
        out = os.path.join(os.path.dirname(args.render) or ".", "engine.md")
        with open(out, "w") as f:
            f.write(report_md.render(rep))
        log(f"wrote {out}")
        return
    if not args.models:
        p.error("--models is required")
    if args.quick:
        args.rounds, args.round_seconds, args.min_reps = min(args.rounds, 3), min(args.round_seconds, 0.2), 1
        args.reference_reps = 1
    t_start = time.time()
    os.makedirs(args.out, exist_ok=True)
    workdir = os.path.join(args.out, "engine-work")
    os.makedirs(workdir, exist_ok=True)

    ours = Ours(args.bty_bench) if args.bty_bench else None
    avail, missing = peers.available()
    for k, v in missing.items():
        log(f"peer {k} unavailable: {v}")
    threads_list = [int(t) for t in args.threads.split(",")]
    sizes = parse_sizes(args.sizes)

    report = {
        "command": args.command or " ".join(sys.argv),
        "date_utc": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpu": cpu_name(), "logical_cpus": os.cpu_count(), "python": platform.python_version()},
        "loadavg_start": loadavg(),
        "settings": {"rounds": args.rounds, "round_seconds": args.round_seconds, "min_reps": args.min_reps,
                     "tol": args.tol, "seed": args.seed, "quick": args.quick},
        "versions": {k: v[1] for k, v in avail.items()},
        "peers_missing": missing,
        "peak_gflops": {}, "peak_runs": {}, "verification": [], "results": [],
        "ours_available": ours is not None,
        "engine_rev": args.engine_rev,
        "bty_bench": args.bty_bench,
    }
    report["versions"]["numpy"] = np.__version__

    def measure_peak(tag, quiet=False):
        # The peak is a property of the hardware: other work only lowers a measurement, so it is sampled before
        # every configuration and the best sample is kept.
        if ours is None:
            return
        for t in threads_list:
            try:
                j = ours.peak(t)
                report["peak_runs"].setdefault(str(t), []).append({"when": tag, "gflops": j["peak_gflops"]})
                if not quiet:
                    log(f"peak FP32 FMA, {t} thread(s), {tag}: {j['peak_gflops']:.1f} GFLOP/s")
            except (BtyBenchError, KeyError, ValueError) as e:
                log(f"peak ({t} threads): {e}")

    measure_peak("start")
    for tier in args.tiers.split(","):
        mpath = os.path.join(args.models, f"{tier}.bmodel")
        model = bmodel_reader.read(mpath)
        for size in sizes:
            tier_size = size is None
            width, height = (model.width, model.height) if tier_size else size
            rng = np.random.default_rng([args.seed, width, height, ord(tier[0])])
            x = rng.uniform(-1, 1, (3, height, width)).astype(np.float32)
            out_shape = model.head_shape(width, height)
            ver = {"net": tier, "width": width, "height": height, "baseline": None, "max_abs_diff": {}}
            ref_out = None
            if tier_size:
                oracle = numpy_ref.forward(model, x)
            else:
                oracle = None
            if ours is not None:
                base = "reference" if tier_size else "pipeline"
                try:
                    ref_out = ours.dump(mpath, width, height, base, x, workdir, out_shape, 1)
                    ver["baseline"] = f"ours-{base} (bty-bench --dump-output, 1 thread)"
                    if oracle is not None:
                        ver["max_abs_diff"]["ours-reference vs numpy float64 oracle"] = maxdiff(ref_out, oracle)
                except BtyBenchError as e:
                    log(f"  ours-{base} dump failed: {e}")
            if ref_out is None:
                if oracle is None:
                    oracle = numpy_ref.forward(model, x)  # slow at large sizes, but only without bty-bench
                ref_out = oracle.astype(np.float32)
                ver["baseline"] = "numpy float64 oracle (bty-bench not available)"
            for threads in threads_list:
                measure_peak(f"before {tier} {width}x{height} {threads}T", quiet=True)
                log(f"{tier} {width}x{height} threads={threads} ({model.macs(width, height) / 1e6:.0f} MMAC)")
                rec = run_config(args, ours, model, mpath, tier_size, width, height, threads, avail, workdir, x,
                                 ref_out)
                rec["baseline"] = ver["baseline"]
                report["results"].append(rec)
                for k, v in rec["max_abs_diff"].items():
                    ver["max_abs_diff"][f"{k} ({threads}T)"] = v
                summary = ", ".join(f"{k} {v:.3f}" for k, v in rec["median_ms"].items())
                log(f"  -> {summary}")
            report["verification"].append(ver)
    measure_peak("end")
    for t, runs in report["peak_runs"].items():
        report["peak_gflops"][t] = max(r["gflops"] for r in runs)
    for rec in report["results"]:
        pk = report["peak_gflops"].get(str(rec["threads"]))
        rec["peak_gflops"] = pk
        for l in rec["layers"]:
            if pk and l.get("gmacs"):
                l["pct_peak"] = 100.0 * 2 * l["gmacs"] / pk
    report["elapsed_s"] = round(time.time() - t_start, 1)
    report["loadavg_end"] = loadavg()

    with open(os.path.join(args.out, "engine.json"), "w") as f:
        json.dump(report, f, indent=1)
    import report_md  # noqa: E402
    with open(os.path.join(args.out, "engine.md"), "w") as f:
        f.write(report_md.render(report))
    log(f"wrote {args.out}/engine.json and {args.out}/engine.md in {report['elapsed_s']} s")


if __name__ == "__main__":
    main()
