#!/usr/bin/python3
"""Collects scripts/bench-element's JSON lines into out/bench/element.json and a markdown table (element.md).

usage: bench_report.py RESULTS.jsonl OUT.json OUT.md
"""
import json
import platform
import subprocess
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
    try:
        cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
    except (OSError, IndexError):
        cpu = platform.processor()
    nproc = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip() or 0)
    doc = {"machine": {"cpu": cpu, "cores": nproc}, "results": rows}
    json.dump(doc, open(sys.argv[2], "w"), indent=1)

    def get(kind, w, faces, tier=None):
        for r in rows:
            if r["kind"] == kind and r["height"] == w and r.get("faces") == faces and r.get("tier", tier) == tier:
                return r
        return None

    md = ["# Element benchmark", "",
          f"Machine: {cpu}, {nproc} cores. Frames preloaded in memory (no decode), I420 for the element, "
          "BGR for the OpenCV recipe, yuv420p for FFmpeg. Median of rounds; CPU ms = CPU time of all the process's "
          "threads per frame. Reproduce: `scripts/bench element`.", "",
          "| input | faces | what | fps (median) | CPU ms / frame | frame ms (median / p95) | added latency | faces tracked |",
          "|---|---|---|---|---|---|---|---|"]
    for h in (720, 1080):
        for faces in (1, 4):
            for tier in ("s", "m", "l"):
                r = get("element", h, faces, tier)
                if r:
                    md.append(f"| {r['width']}×{h} | {faces} | beautify tier={tier} | {r['fps_median']:.1f} | "
                              f"{r['cpu_ms_per_frame']:.1f} | {r['frame_ms_median']:.1f} / {r['frame_ms_p95']:.1f} | "
                              f"{r['added_latency_frames']} frames | {r['faces_min']}–{r['faces_max']} |")
            r = get("gapi-recipe", h, faces)
            if r:
                md.append(f"| {r['width']}×{h} | {faces} | OpenCV G-API sample recipe | {r['fps_median']:.1f} | "
                          f"{r['cpu_ms_per_frame']:.1f} | | | {r['faces_min']}–{r['faces_max']} |")
        r = get("ffmpeg-bilateral", h, None)
        if r:
            md.append(f"| {r['width']}×{h} | any | FFmpeg bilateral, whole frame | {r['fps_median']:.1f} | "
                      f"{r['cpu_ms_per_frame']:.1f} | | | n/a |")
    goals = []
    m1080 = get("element", 1080, 1, "m")
    g1080 = get("gapi-recipe", 1080, 1)
    if m1080:
        goals.append(f"- 1080p, one face, tier M: {m1080['fps_median']:.0f} fps (goal ≥ 142).")
    if m1080 and g1080:
        goals.append(f"- vs. the G-API recipe at 1080p, one face: {m1080['fps_median'] / g1080['fps_median']:.1f}× "
                     "(goal ≥ 5×).")
    if rows:
        lat = max(r.get("added_latency_frames", 0) for r in rows if r["kind"] == "element")
        goals.append(f"- added latency: {lat} frames (goal 0): every frame is out of the element before the push "
                     "that brought it returns.")
    md += ["", "Against the goals:", ""] + goals + [""]
    open(sys.argv[3], "w").write("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
