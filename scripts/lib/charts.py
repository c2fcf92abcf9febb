#!/usr/bin/python3
"""Charts of the benchmark and quality figures (matplotlib, Debian's python3-matplotlib), next to their tables:
  chart-element.png  fps per tier and resolution, 1 and 4 faces, against the OpenCV G-API recipe and FFmpeg bilateral
  chart-engine.png   latency per engine at each tier's net size, 1 thread
  chart-quality.png  blemish removal and clean-skin drift per tier against the bilateral baseline (and per blemish type)
Inputs are the JSON files the benchmarks and the evaluation write (out/bench/element.json, out/bench/engine.json,
out/eval/quality.json); --docs reads the element and engine tables of docs/benchmarks.md instead (those tables are
rendered from the same JSON), for when the JSON of the published run is not at hand.

usage: charts.py [--element JSON] [--engine JSON] [--quality JSON] [--docs BENCHMARKS.md] --out DIR"""
import argparse
import json
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OURS = "#d35400"
PEER_COLOURS = ["#7f8c8d", "#95a5a6", "#bdc3c7", "#34495e", "#5d6d7e"]


def element_from_docs(text):
    rows = []
    for m in re.finditer(r"^\| (\d+)×(\d+) \| (\d+|any) \| ([^|]+?) \| ([\d.]+) \| ([\d.]+) \|", text, re.M):
        w, h, faces, what, fps, cpu = m.groups()
        r = {"width": int(w), "height": int(h), "fps_median": float(fps), "cpu_ms_per_frame": float(cpu)}
        if faces != "any":
            r["faces"] = int(faces)
        t = re.match(r"beautify tier=(\w)", what)
        r["kind"] = "element" if t else "gapi-recipe" if "G-API" in what else "ffmpeg-bilateral"
        if t:
            r["tier"] = t.group(1)
        rows.append(r)
    return {"results": rows}


def engine_from_docs(text):
    """The first latency table of the engine section (the newest run's, all rounds)."""
    sec = text[text.index("## Engine"):]
    head = re.search(r"^\| net \| input \| thr \| (.+) \|$", sec, re.M)
    cols = [c.strip() for c in head.group(1).split("|")]
    rows = []
    for line in sec[head.end():].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        w, h = cells[1].split("×")
        ms = {}
        for c, v in zip(cols, cells[3:]):
            try:
                ms[c] = float(v)
            except ValueError:
                pass
        rows.append({"net": cells[0], "width": int(w), "height": int(h), "threads": int(cells[2]), "median_ms": ms})
    return {"results": rows}


def element_chart(doc, path, note):
    rows = doc["results"]
    groups = [(h, f) for h in (720, 1080) for f in (1, 4)]
    bars = [("beautify S", lambda r: r["kind"] == "element" and r.get("tier") == "s", OURS, 0.45),
            ("beautify M", lambda r: r["kind"] == "element" and r.get("tier") == "m", OURS, 0.75),
            ("beautify L", lambda r: r["kind"] == "element" and r.get("tier") == "l", OURS, 1.0),
            ("OpenCV G-API recipe", lambda r: r["kind"] == "gapi-recipe", PEER_COLOURS[0], 1.0),
            ("FFmpeg bilateral (whole frame)", lambda r: r["kind"] == "ffmpeg-bilateral", PEER_COLOURS[3], 1.0)]
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    width = 0.16
    for i, (label, pick, colour, alpha) in enumerate(bars):
        xs, ys = [], []
        for g, (h, faces) in enumerate(groups):
            r = [r for r in rows if r["height"] == h and pick(r) and r.get("faces", faces) == faces]
            if r:
                xs.append(g + (i - 2) * width)
                ys.append(r[0]["fps_median"])
        b = ax.bar(xs, ys, width, label=label, color=colour, alpha=alpha)
        ax.bar_label(b, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(range(len(groups)), [f"{'1280×720' if h == 720 else '1920×1080'}, {f} face{'s' if f > 1 else ''}"
                                       for h, f in groups])
    ax.set_ylabel("frames per second (median)")
    ax.set_title("beautify element vs peers, CPU, per tier and resolution")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.text(0.01, 0.01, note, fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def engine_chart(doc, path, note):
    rows = [r for r in doc["results"] if r["threads"] == 1 and r["net"].upper() in ("S", "M", "L")]
    rows = [r for r in rows if r["width"] * r["height"] < 100000]  # each tier's own input size
    rows.sort(key=lambda r: "SML".index(r["net"].upper()))
    engines = ["ours-pipeline", "ours-layered", "onnxruntime", "openvino", "ncnn", "opencv-dnn"]
    fig, ax = plt.subplots(figsize=(9, 4), dpi=110)
    width = 0.13
    for i, e in enumerate(engines):
        xs = [g + (i - 2.5) * width for g, r in enumerate(rows) if e in r["median_ms"]]
        ys = [r["median_ms"][e] for r in rows if e in r["median_ms"]]
        ours = e.startswith("ours")
        b = ax.bar(xs, ys, width, label=e, color=OURS if ours else PEER_COLOURS[i % len(PEER_COLOURS)],
                   alpha=1.0 if e == "ours-pipeline" else 0.6 if ours else 1.0)
        ax.bar_label(b, fmt="%.2f", fontsize=6, padding=1, rotation=90)
    ax.set_xticks(range(len(rows)), [f"{r['net']} {r['width']}×{r['height']}" for r in rows])
    ax.set_ylabel("ms per inference (median), 1 thread")
    ax.set_title("beauty net latency per engine (same weights, FP32)")
    ax.legend(fontsize=8, ncol=3)
    ax.grid(axis="y", alpha=0.3)
    ax.margins(y=0.15)
    fig.text(0.01, 0.01, note, fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def quality_chart(doc, path, note):
    res = doc["results"]
    tiers = [t for t in ("S", "M", "L") if t in res] + (["bilateral"] if "bilateral" in res else [])
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(11, 3.8), dpi=110, gridspec_kw={"width_ratios": [1, 1, 2.2]})
    colours = [OURS if t != "bilateral" else PEER_COLOURS[0] for t in tiers]
    alphas = [0.45, 0.75, 1.0, 1.0][:len(tiers)]
    for ax, key, title, goal in ((a1, "de_reduction", "blemish ΔE reduction (higher is better)", 0.75),
                                 (a2, "drift", "clean-skin drift, ΔE (lower is better)", 0.6)):
        for i, t in enumerate(tiers):
            b = ax.bar(i, res[t][key], color=colours[i], alpha=alphas[i])
            ax.bar_label(b, fmt="%.2f", fontsize=8)
        ax.axhline(goal, color="#27ae60", ls="--", lw=1)
        ax.text(-0.4, goal, f"goal {goal}", color="#27ae60", fontsize=7, ha="left", va="bottom")
        ax.set_xticks(range(len(tiers)), tiers)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    types = list(doc.get("per_type", {}))
    width = 0.8 / len(tiers)
    for i, t in enumerate(tiers):
        ys = [doc["per_type"][k]["de_reduction"].get(t, 0) for k in types]
        a3.bar([x + (i - (len(tiers) - 1) / 2) * width for x in range(len(types))], ys, width, label=t,
               color=colours[i], alpha=alphas[i])
    a3.set_xticks(range(len(types)), [k.replace("_", " ") for k in types], rotation=30, fontsize=8)
    a3.set_title("ΔE reduction per blemish type", fontsize=9)
    a3.legend(fontsize=8)
    a3.grid(axis="y", alpha=0.3)
    meta = doc.get("meta", {})
    fig.suptitle(f"beauty-net quality per tier vs bilateral ({meta.get('faces', '?')} validation faces, "
                 "synthetic blemishes)", fontsize=10)
    fig.text(0.01, 0.01, note, fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--element")
    ap.add_argument("--engine")
    ap.add_argument("--quality")
    ap.add_argument("--docs", help="docs/benchmarks.md: element and engine tables instead of their JSON")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    wrote = []
    text = open(a.docs).read() if a.docs else None
    el = json.load(open(a.element)) if a.element else element_from_docs(text) if text else None
    if el and el["results"]:
        src = a.element or f"{a.docs} (element table)"
        element_chart(el, os.path.join(a.out, "chart-element.png"), f"source: {src}; reproduce: scripts/bench element")
        wrote.append("chart-element.png")
    en = json.load(open(a.engine)) if a.engine else engine_from_docs(text) if text else None
    if en and en["results"]:
        src = a.engine or f"{a.docs} (engine latency table)"
        engine_chart(en, os.path.join(a.out, "chart-engine.png"), f"source: {src}; reproduce: scripts/bench engine")
        wrote.append("chart-engine.png")
    if a.quality:
        quality_chart(json.load(open(a.quality)), os.path.join(a.out, "chart-quality.png"),
                      f"source: {a.quality}; reproduce: scripts/eval")
        wrote.append("chart-quality.png")
    if not wrote:
        ap.error("nothing to chart: give --element, --engine, --quality or --docs")
    print("wrote " + ", ".join(os.path.join(a.out, w) for w in wrote))


if __name__ == "__main__":
    main()
