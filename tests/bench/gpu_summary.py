#!/usr/bin/env python3
"""The GPU run's goals (issue 10) from OUT/opencl.json and OUT/torch.json, side by side, and the best host-side
settings of OUT/opencl_sweep.json: writes OUT/summary.md.
Goals: tier M batch 1 wall <= 0.3 ms and >= 2x PyTorch eager fp32 (wall, same batch); 16 faces of tier L <= 1.5 ms
wall; warm-cache first frame <= 50 ms."""
import argparse
import json
import os


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    a = p.parse_args()
    cl, th = load(os.path.join(a.out, "opencl.json")), load(os.path.join(a.out, "torch.json"))
    L = ["# GPU run: OpenCL executor vs goals and PyTorch", ""]
    if not cl:
        L.append("opencl.json missing: the OpenCL bench did not run.")
    else:
        def best(tier, batch):
            rows = [r for r in cl["rows"] if r["tier"] == tier and r["batch"] == batch]
            return min(rows, key=lambda r: r["wall_ms"]) if rows else None

        def torch_row(tier, batch, mode):
            if not th:
                return None
            return next((r for r in th["rows"] if r["tier"] == tier and r["batch"] == batch and r["mode"] == mode), None)

        m1, l16 = best("M", 1), best("L", 16)
        warm = [s for s in cl["starts"] if s["kind"] == "warm"]
        t1 = torch_row("M", 1, "eager fp32")
        L += ["| goal | measured | met |", "|---|---|---|"]
        if m1:
            L.append(f"| M batch 1 wall <= 0.3 ms | {m1['wall_ms']:.3f} ms ({m1['reads']} reads; up {m1['upload_ms']:.3f}, "
                     f"kernels {m1['kernels_ms']:.3f}, down {m1['download_ms']:.3f}; host: set_input "
                     f"{m1.get('inputs_ms', 0):.3f}, gather {m1.get('gather_ms', 0):.3f} on {m1.get('threads', 1)} "
                     f"threads, upload enqueue {m1.get('upload_enqueue_ms', 0):.3f}, enqueue "
                     f"{m1.get('enqueue_ms', 0):.3f}) | {m1['wall_ms'] <= 0.3} |")
            if t1:
                r = t1["wall_ms"] / m1["wall_ms"]
                L.append(f"| M batch 1 >= 2x PyTorch eager fp32 (wall) | {r:.2f}x ({t1['wall_ms']:.3f} ms) | {r >= 2} |")
        if l16:
            L.append(f"| L 16 faces wall <= 1.5 ms | {l16['wall_ms']:.3f} ms ({l16['reads']} reads; up "
                     f"{l16['upload_ms']:.3f}, kernels {l16['kernels_ms']:.3f}, down {l16['download_ms']:.3f}; host: "
                     f"set_input {l16.get('inputs_ms', 0):.3f}, gather {l16.get('gather_ms', 0):.3f} on "
                     f"{l16.get('threads', 1)} threads, upload enqueue {l16.get('upload_enqueue_ms', 0):.3f}, enqueue "
                     f"{l16.get('enqueue_ms', 0):.3f}) | {l16['wall_ms'] <= 1.5} |")
        for s in warm:  # the bare bench starts synchronously; the element runs CPU frames meanwhile
            L.append(f"| {s['tier']} warm-cache GPU ready (bench, synchronous) | {s['first_frame_ms']:.1f} ms "
                     f"(context {s.get('context_ms', 0):.1f}, platform {s.get('platform_ms', 0):.1f}, cache load "
                     f"{s['build_ms']:.1f}) | {s['first_frame_ms'] <= 50} |")
        L += ["", "| net | batch | ours wall (best reads) | ours kernels | torch eager fp32 wall | eager fp16 | "
              "compile fp32 | compile fp16 |", "|---|---|---|---|---|---|---|---|"]
        for tier in ("S", "M", "L"):
            for b in sorted({r["batch"] for r in cl["rows"]}):
                o = best(tier, b)
                if not o:
                    continue
                cells = []
                for mode in ("eager fp32", "eager fp16", "compile fp32", "compile fp16"):
                    t = torch_row(tier, b, mode)
                    cells.append(f"{t['wall_ms']:.3f}" if t else "—")
                L.append(f"| {tier} | {b} | {o['wall_ms']:.3f} ({o['reads']}) | {o['kernels_ms']:.3f} | " +
                         " | ".join(cells) + " |")
    sw = load(os.path.join(a.out, "opencl_sweep.json"))
    if sw and sw["cases"]:
        L += ["", "Host-side settings (opencl_sweep.md), wall ms, default -> best:", ""]
        for key in dict.fromkeys((r["tier"], r["batch"]) for r in sw["cases"]):
            rows = [r for r in sw["cases"] if (r["tier"], r["batch"]) == key]
            d, b = rows[0], min(rows, key=lambda r: r["wall_ms"])
            L.append(f"- {key[0]} batch {key[1]}: {d['wall_ms']:.3f} ({d['chunks']} parts, flush every "
                     f"{d['flush_every']}, {d['queues']} queues) -> {b['wall_ms']:.3f} ({b['chunks']} parts, flush "
                     f"every {b['flush_every']}, {b['queues']} queues)")
    L.append("")
    for name in ("opencl.md", "opencl_sweep.md", "torch.md"):
        path = os.path.join(a.out, name)
        if os.path.exists(path):
            L.append(open(path).read())
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L[:12]))


if __name__ == "__main__":
    main()
