"""Renders engine.json as the markdown that goes into docs/benchmarks.md."""
import statistics

ENGINES = ["ours-reference", "ours-layered", "ours-pipeline", "ours-pipeline-bf16", "onnxruntime", "openvino", "ncnn",
           "opencv-dnn"]
PEERS = ["onnxruntime", "openvino", "ncnn", "opencv-dnn"]
KIB = 1024


def _ms(v):
    if v is None:
        return "—"
    return f"{v:.2f}" if v < 100 else f"{v:.0f}"


def _kib(v):
    if v is None:
        return "—"
    if v >= 10 * KIB * KIB:
        return f"{v / KIB / KIB:.1f} MiB"
    return f"{v / KIB:.0f} KiB"


def _load(v):
    return f"{v[0]:.2f}" if v else "?"


def _load1(v):
    return "?" if v is None else f"{v:.2f}"


def _size(r):
    return f"{r['width']}×{r['height']}"


def fastest_peer(r):
    best = None
    for p in PEERS:
        v = r["median_ms"].get(p)
        if v is not None and r["valid"].get(p) and (best is None or v < best[1]):
            best = (p, v)
    return best


def _cell(r, e):
    if e in r["median_ms"]:
        return _ms(r["median_ms"][e])
    if e in r["valid"] and not r["valid"][e]:
        return f"✗ diff {r['max_abs_diff'][e]:.1e}"
    if e in r["errors"]:
        return "error"
    return "—"


def render(rep):
    L = []
    add = L.append
    add("## Engine benchmark")
    add("")
    add("Reproduce with:")
    add("")
    add("```")
    add(rep["command"])
    add("```")
    add("")
    m = rep["machine"]
    s = rep["settings"]
    add(f"{rep['date_utc']} UTC, {m['cpu']}, {m['logical_cpus']} logical CPUs, shared with other work (noisy: "
        f"{s['rounds']} alternating rounds of ~{s['round_seconds']} s per engine, medians of all reps; the round order "
        f"rotates). Test models (seeded random weights), FP32 everywhere except the ours-pipeline-bf16 column (bf16 products on AMX tiles or AVX512-BF16 dot products, fp32 sums). Run took {rep.get('elapsed_s', '?')} s; "
        f"1-minute load average {_load(rep.get('loadavg_start'))} at the start, {_load(rep.get('loadavg_end'))} at "
        f"the end (above ~0.5 other work shared the 2 cores; 2-thread figures suffer most).")
    add("")
    if rep.get("engine_rev"):
        add(f"Engine: {rep['engine_rev']}.")
        add("")
    vers = ", ".join(f"{k} {v}" for k, v in sorted(rep["versions"].items()))
    add(f"Versions: {vers}.")
    if rep.get("peers_missing"):
        add(f"Peers missing: {', '.join(f'{k} ({v})' for k, v in rep['peers_missing'].items())}.")
    if rep["peak_gflops"]:
        pk = ", ".join(f"{t} thread{'s' if t != '1' else ''}: {v:.1f} GFLOP/s" for t, v in
                       sorted(rep["peak_gflops"].items()))
        runs = "; ".join(f"{t}T median {statistics.median(x['gflops'] for x in v):.1f} of {len(v)}"
                         for t, v in sorted(rep["peak_runs"].items()))
        add(f"Measured FP32 FMA peak (bty-bench --peak, sampled before every row, best sample kept; {runs}): "
            f"{pk}.")
    if not rep.get("ours_available"):
        add("")
        add("**bty-bench was not available: only the peers ran; their outputs were checked against the numpy "
            "float64 oracle.**")
    add("")

    # --- time table ---
    add("### Latency (median ms per inference)")
    add("")
    add("Ours run as bty-bench subprocesses (one per round); peers in-process through their Python APIs (only the "
        "inference call timed). The scalar reference runs at the tier size and 1 thread only. A peer whose output "
        "differs from ours by more than the tolerance is marked ✗ and not timed. Ratios > 1 mean the pipeline is "
        "faster. Column other: cores' worth of CPU used by other processes on the machine while that row was "
        "timed (0 to 2).")
    add("")
    add("| net | input | thr | " + " | ".join(ENGINES) + " | fastest peer | pipeline vs fastest peer | "
        "pipeline vs layered | other |")
    add("|" + "---|" * (len(ENGINES) + 7))
    for r in rep["results"]:
        fp = fastest_peer(r)
        pipe = r["median_ms"].get("ours-pipeline")
        lay = r["median_ms"].get("ours-layered")
        vs_peer = f"{fp[1] / pipe:.2f}×" if fp and pipe else "—"
        vs_lay = f"{lay / pipe:.2f}×" if lay and pipe else "—"
        add(f"| {r['net']} | {_size(r)} | {r['threads']} | " + " | ".join(_cell(r, e) for e in ENGINES) +
            f" | {fp[0] if fp else '—'} | {vs_peer} | {vs_lay} | {_load1(r.get('foreign_cores'))} |")
    add("")

    quiet_rows = [r for r in rep["results"] if r.get("median_ms_quiet")]
    if quiet_rows:
        add("Quiet batches only (secondary figure: median of the per-batch medians over the batches during which "
            "other processes used < 0.25 core, shown where at least half of an engine's batches were quiet):")
        add("")
        add("| net | input | thr | " + " | ".join(ENGINES) + " | pipeline vs fastest peer | pipeline vs layered |")
        add("|" + "---|" * (len(ENGINES) + 5))
        for r in quiet_rows:
            q = r["median_ms_quiet"]
            peers_q = [(p, q[p]) for p in PEERS if p in q]
            fp = min(peers_q, key=lambda t: t[1]) if peers_q else None
            pipe, lay = q.get("ours-pipeline"), q.get("ours-layered")
            add(f"| {r['net']} | {_size(r)} | {r['threads']} | " + " | ".join(_ms(q.get(e)) for e in ENGINES) +
                f" | {f'{fp[1] / pipe:.2f}× ({fp[0]})' if fp and pipe else '—'} | "
                f"{f'{lay / pipe:.2f}×' if lay and pipe else '—'} |")
        add("")

    # --- verification ---
    add("### Verification (max abs output difference vs ours, same input)")
    add("")
    add("Baseline: our reference executor at the tier size, our pipeline at the large size (itself checked against "
        "the reference at the tier size); outputs are tanh in [-1, 1].")
    add("")
    cols = ["ours-reference", "ours-layered", "ours-pipeline", "ours-pipeline-bf16"] + PEERS
    add("| net | input | thr | baseline | " + " | ".join(cols) + " |")
    add("|" + "---|" * (len(cols) + 4))
    for r in rep["results"]:
        cells = []
        for c in cols:
            d = r["max_abs_diff"].get(c)
            cells.append("—" if d is None else f"{d:.1e}" + ("" if r["valid"].get(c, True) else " ✗"))
        base = "reference" if "reference" in (r.get("baseline") or "") else (r.get("baseline") or "?").split(" ")[0]
        add(f"| {r['net']} | {_size(r)} | {r['threads']} | {base} | " + " | ".join(cells) + " |")
    orc = [(v["net"], v["max_abs_diff"].get("ours-reference vs numpy float64 oracle")) for v in rep["verification"]]
    orc = [f"{n} {d:.1e}" for n, d in orc if d is not None]
    if orc:
        add("")
        add(f"Our reference vs an independent numpy float64 forward pass (tier size): {', '.join(orc)}.")
    add("")

    # --- per-layer for M ---
    mres = [r for r in rep["results"] if r["net"] == "M" and r["layers"]]
    if mres:
        add("### Per-layer, M, layered SIMD executor (direct-conv MACs / median layer time)")
        add("")
        add("% of peak = 2 × GMAC/s / measured FP32 FMA peak at the same thread count. MACs are direct-convolution "
            "MACs, so a layer the engine runs with Winograd F(2×2,3×3) (2.25× fewer multiplications) can show more "
            "than 100%. The 2-thread peak is only as high as the second core was free while it was sampled.")
        for size in sorted({(r["width"], r["height"]) for r in mres}, key=lambda s: s[0] * s[1]):
            rs = sorted([r for r in mres if (r["width"], r["height"]) == size], key=lambda r: r["threads"])
            add("")
            add(f"Input {size[0]}×{size[1]}:")
            add("")
            head = "| layer | op | output | MMAC | " + " | ".join(
                f"{r['threads']}T ms | {r['threads']}T GMAC/s | {r['threads']}T % peak" for r in rs) + " |"
            add(head)
            add("|" + "---|" * (4 + 3 * len(rs)))
            n = len(rs[0]["layers"])
            for i in range(n):
                l0 = rs[0]["layers"][i]
                cells = []
                for r in rs:
                    li = r["layers"][i] if i < len(r["layers"]) else {}
                    g, pct = li.get("gmacs"), li.get("pct_peak")
                    cells += [f"{li['median_s'] * 1e3:.3f}" if li else "—", f"{g:.1f}" if g else "—",
                              f"{pct:.0f}%" if pct else "—"]
                out = f"{l0.get('cout', '?')}×{l0.get('out_w', '?')}×{l0.get('out_h', '?')}"
                add(f"| {l0.get('layer', l0['index'])} | {l0.get('desc', '?')} | {out} | {l0['macs'] / 1e6:.2f} | "
                    + " | ".join(cells) + " |")
            tot = []
            for r in rs:
                ms = sum(li["median_s"] for li in r["layers"]) * 1e3
                macs = sum(li["macs"] for li in r["layers"])
                tot.append(f"{r['threads']}T: {ms:.2f} ms in convs, {macs / ms / 1e6:.1f} GMAC/s overall")
            add("")
            add("Sum: " + "; ".join(tot) + ".")
        add("")

    # --- working set ---
    add("### Intermediate working set (peak bytes of feature-map buffers)")
    add("")
    add("Ours: `working_set_bytes` reported by each executor (all threads). Peers run layer by layer on whole "
        "feature maps; their figure is computed from the graph: the peak sum of live intermediate maps (net input "
        "and output excluded), with upsample/concat materialised as the peers do, and folded into the consuming "
        "conv as a lower bound for any layer-by-layer executor.")
    add("")
    wcols = ["ours-reference", "ours-layered", "ours-pipeline"]
    add("| net | input | thr | " + " | ".join(wcols) + " | pipeline per thread | peers: whole maps | "
        "whole maps, folded |")
    add("|" + "---|" * (len(wcols) + 6))
    for r in rep["results"]:
        ws = r["working_set_bytes"]
        pipe = ws.get("ours-pipeline")
        per = _kib(pipe / r["threads"]) if pipe else "—"
        add(f"| {r['net']} | {_size(r)} | {r['threads']} | " + " | ".join(_kib(ws.get(c)) for c in wcols) +
            f" | {per} | {_kib(ws.get('layer-by-layer, whole maps (computed)'))} | "
            f"{_kib(ws.get('layer-by-layer, whole maps, upsample/concat folded (computed)'))} |")
    add("")

    # --- goals ---
    add("### Against the goals (issue 2)")
    add("")
    add("| goal | measured |")
    add("|---|---|")
    for r in rep["results"]:
        if r["net"] == "M" and r["threads"] == 1:
            fp, pipe = fastest_peer(r), r["median_ms"].get("ours-pipeline")
            if fp and pipe:
                add(f"| pipeline 1T ≥ 1.5× fastest peer, M {_size(r)} | {fp[1] / pipe:.2f}× ({fp[0]} "
                    f"{_ms(fp[1])} ms vs {_ms(pipe)} ms) |")
            bf = r["median_ms"].get("ours-pipeline-bf16")
            if fp and bf:
                add(f"| best precision (bf16) 1T ≥ 2.5× fastest fp32 peer (issue 9), M {_size(r)} | "
                    f"{fp[1] / bf:.2f}× ({fp[0]} {_ms(fp[1])} ms vs {_ms(bf)} ms) |")
    for r in mres:
        s1 = [l["pct_peak"] for l in r["layers"] if l.get("stride") == 1 and l.get("pct_peak")]
        if s1:
            add(f"| stride-1 3×3 ≥ 70% of peak, M {_size(r)} {r['threads']}T (layered) | median "
                f"{statistics.median(s1):.0f}%, min {min(s1):.0f}%, max {max(s1):.0f}% |")
    per_thread = [(r["working_set_bytes"]["ours-pipeline"] / r["threads"], r) for r in rep["results"]
                  if r["working_set_bytes"].get("ours-pipeline")]
    if per_thread:
        worst = max(per_thread, key=lambda t: t[0])
        add(f"| pipeline working set ≤ 512 KiB per thread, any size | max {_kib(worst[0])} per thread "
            f"({worst[1]['net']} {_size(worst[1])}, {worst[1]['threads']}T) |")
    for r in rep["results"]:
        if r["width"] * r["height"] >= 1_000_000:
            pipe, lay = r["median_ms"].get("ours-pipeline"), r["median_ms"].get("ours-layered")
            if pipe and lay:
                add(f"| pipeline ≥ 1.3× layered at ≥ 1 MP: {r['net']} {_size(r)} {r['threads']}T | "
                    f"{lay / pipe:.2f}× |")
    add("")
    return "\n".join(L) + "\n"
