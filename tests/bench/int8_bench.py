#!/usr/bin/env python3
"""int8 rows of the engine benchmark (scripts/bench engine --int8-only; issue 9): on the shipped tiers at their input
size, 1 thread, ours in fp32, bf16 and int8 beside ONNX Runtime, OpenVINO and ncnn in fp32 and in int8 (int8_peers.py:
each quantised with its own tools, calibrated on the crops our calibrate_int8.py uses), in alternating rounds;
fastest and median run of each. Accuracy the way issue 9 bounds ours (tests/engine/quality_bound.h): per output
pixel after the pixel shuffle, the delta maps' change against the same engine's fp32 in 8-bit code values
(x output_scale), the share of pixels over one code value (bound 0.1 %) and the largest change, and the blemish
alpha's largest change (bound 0.01), on real validation faces (synth.make_batch without augmentation, blemishes
drawn; a seed of their own).

  int8_bench.py --bty-bench B --models DIR [--data .devdata/faces.npz] [--tiers m] [--rounds 3] [--reps 60]
                [--faces 24] [--out DIR]
Needs torch and the data (the crops) and the peers (.venv); writes DIR/int8.json and DIR/int8.md.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))
import bmodel_reader  # noqa: E402
import int8_peers  # noqa: E402
import peers  # noqa: E402
from bench_util import bty_bench_json, loadavg, log, model_path  # noqa: E402
from ours import Ours  # noqa: E402

MAX_SHARE_OVER_ONE, MAX_ALPHA_CHANGE = 0.001, 0.01  # the quality bound (tests/engine/quality_bound.h)
LAYER_ALPHA = 6  # output_kind 1's alpha map ((raw + 1) / 2, a blend weight): bounded by its own largest change
ACCURACY_SEED = 4243


def crops(tier, data_path, faces):
    """(calibration crops, accuracy crops) as (N, 3, H, W) float32 net inputs."""
    import torch
    from beautynet import arch, int8, nets, synth
    data = synth.load_faces(data_path, "cpu")
    t = arch.TIERS[tier.upper()]
    cal = np.concatenate([x.numpy() for x in int8.calibration_inputs(t, data)])
    val = torch.from_numpy(data["val"].nonzero()[0])[:faces]
    b = synth.make_batch(data, val, torch.Generator().manual_seed(ACCURACY_SEED), (t.height, t.width), strong=False)
    acc = nets.to_net(b["x"]).numpy()
    return cal.astype(np.float32), acc.astype(np.float32)


def code_error(m, a, b):
    """The share of output pixels whose delta maps moved by more than one code value, the largest move, and the
    alpha's largest change (0 without an alpha map)."""
    maps = m.output_maps()
    d = np.abs(a.astype(np.float64) - b.astype(np.float64)).reshape(maps, m.shuffle * m.shuffle, -1)
    alpha = m.output_kind == 1
    code = d[[i for i in range(maps) if not (alpha and i == LAYER_ALPHA)]] * m.output_scale
    return (float((code > 1.0).any(axis=0).mean()), float(code.max()),
            float(d[LAYER_ALPHA].max() / 2) if alpha else 0.0)


def measure(a, ours, variants, work):
    """The rows of every tier: accuracy, then the alternating timing rounds."""
    rows = []
    for tier in a.tiers.split(","):
        path = model_path(a.models, tier)
        m = bmodel_reader.read(path)
        cal, acc = crops(tier, a.data, a.faces)
        log(f"{tier.upper()}: {len(cal)} calibration crops, {len(acc)} accuracy crops")
        out_shape = m.head_shape()
        runners = {}
        for cls in (peers.OnnxRuntime, peers.OpenVino, peers.Ncnn):
            runners[cls.NAME] = cls(m, m.width, m.height, 1, work)
        for cls in int8_peers.ALL:
            runners[cls.NAME] = cls(m, m.width, m.height, 1, work, cal)
        # accuracy: every engine against its own fp32 on the same faces
        outs = {}
        for name, r in runners.items():
            outs[name] = [r.run(x) for x in acc]
        for v in variants:
            outs["ours-" + v] = [ours.dump(path, m.width, m.height, v, x, work, out_shape) for x in acc]
        accuracy = {}
        for name in outs:  # "ours-pipeline-int8" against "ours-pipeline", "ncnn-int8" against "ncnn"
            fp32 = outs[name.replace("-int8", "").replace("-bf16", "")]
            accuracy[name] = [max(e) for e in zip(*(code_error(m, x, y) for x, y in zip(outs[name], fp32)))]
        # speed: alternating rounds, fastest and median of each engine's runs
        times = {n: [] for n in outs}
        x = acc[0]
        for rnd in range(a.rounds):
            for name, r in runners.items():
                r.run(x)
                times[name] += r.time(a.reps)
            for v in variants:
                times["ours-" + v] += ours.bench(path, m.width, m.height, 1, v, a.reps, 2)["times_ms"]
            log(f"{tier.upper()} round {rnd + 1}: " + ", ".join(f"{n} {min(t):.3f}" for n, t in times.items()))
        for name, t in times.items():
            prec = "int8" if name.endswith("int8") else "bf16" if name.endswith("bf16") else "fp32"
            rows.append({"tier": tier.upper(), "width": m.width, "height": m.height, "engine": name,
                         "precision": prec, "min_ms": min(t), "median_ms": float(np.median(t)),
                         "over_one_share": accuracy[name][0], "max_code": accuracy[name][1],
                         "max_alpha": accuracy[name][2], "macs": m.macs()})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bty-bench", required=True)
    p.add_argument("--models", required=True, help="the folder with beautify-{s,m,l}.bmodel (calibrated, version 3)")
    p.add_argument("--data", default=".devdata/faces.npz", help="prepare_data.py's npz (the crops)")
    p.add_argument("--tiers", default="m")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=60)
    p.add_argument("--faces", type=int, default=24, help="validation faces for the accuracy columns")
    p.add_argument("--out", default="out/bench")
    a = p.parse_args()
    if not os.path.exists(a.data):
        log(f"int8 rows skipped: {a.data} not found (models/beautynet/prepare_data.py makes it from ../shared)")
        return
    load_before = loadavg()
    ours = Ours(a.bty_bench)
    peak = bty_bench_json(a.bty_bench, ["--peak", "--threads", 1])
    # ours in the precisions this CPU runs (bf16: AMX tiles or AVX512-BF16; int8: AVX512-VNNI; no AVX2 int8 path yet)
    variants = (["pipeline"] + (["pipeline-bf16"] if peak["bf16dot512_gflops"] > 0 or peak["amxbf16_gflops"] > 0
                                else []) + (["pipeline-int8"] if peak["vnni512_gops"] > 0 else []))
    work = tempfile.mkdtemp(prefix="bty-int8-")  # exports and crops, ~170 MB per tier
    try:
        rows = measure(a, ours, variants, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    doc = {"peak": peak, "rows": rows, "ours": variants, "load_before": load_before, "load_after": loadavg(),
           "versions": {c.NAME: c.version() for c in (peers.OnnxRuntime, peers.OpenVino, peers.Ncnn)}
           | {"nncf": int8_peers.nncf_version()}}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "int8.json"), "w") as fh:
        json.dump(doc, fh, indent=1)
    md = report(doc)
    with open(os.path.join(a.out, "int8.md"), "w") as fh:
        fh.write(md)
    print(md)


def report(doc):
    lb, la = doc["load_before"], doc["load_after"]
    pk = doc["peak"]
    md = [f"1 thread; 1-minute load average {lb[0]:.1f} before, {la[0]:.1f} after. Versions: "
          + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()) + f". Peaks: FP32 FMA {pk['peak_gflops']:.0f} "
          f"GFLOP/s (ymm), zmm {pk['fma512_gflops']:.0f}, bf16 dot {pk['bf16dot512_gflops']:.0f}, VNNI "
          f"{pk['vnni512_gops']:.0f} GOP/s (0: the CPU has none; ours runs " + ", ".join(doc["ours"]) + ").", "",
          "| net | engine | precision | fastest ms | median ms | vs fastest fp32 peer | vs fastest int8 peer | "
          "pixels > 1 code value vs its fp32 | largest change (code values) | alpha's largest change | "
          "within the bound |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
    for tier in dict.fromkeys(r["tier"] for r in doc["rows"]):
        rows = [r for r in doc["rows"] if r["tier"] == tier]
        peer = [r for r in rows if not r["engine"].startswith("ours")]
        f32 = min(r["min_ms"] for r in peer if r["precision"] == "fp32")
        i8 = min(r["min_ms"] for r in peer if r["precision"] == "int8")
        for r in rows:
            ok = r["over_one_share"] <= MAX_SHARE_OVER_ONE and r["max_alpha"] <= MAX_ALPHA_CHANGE
            md.append(f"| {tier} {r['width']}×{r['height']} | {r['engine']} | {r['precision']} | {r['min_ms']:.3f} | "
                      f"{r['median_ms']:.3f} | {f32 / r['min_ms']:.2f}× | {i8 / r['min_ms']:.2f}× | "
                      f"{100 * r['over_one_share']:.2f} % | {r['max_code']:.2f} | {r['max_alpha']:.4f} | "
                      f"{'yes' if ok else 'no'} |")
    md += ["", "Accuracy: each engine against its own fp32 output on real validation faces (the worst face); the "
           "bound (issue 9) is ≤ 0.1 % of pixels over one code value and an alpha change ≤ 0.01. Ratios from the "
           "fastest runs of one run."]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()
