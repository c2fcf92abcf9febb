"""Quality evaluation of the shipped tiers and of a classical baseline (entry point: scripts/eval).

Validation faces (prepare_data.py's held-out sources and identities) at the stored crop size (288x360, face width
~170 px), synthetic blemishes with a fixed seed, then per method:
- the nets run in PyTorch deploy mode with the weights read from the shipped .bmodel files (tests/models shows the
  C++ engine matches that within 3e-6); the crop is cut to the tier's aspect, resized to its input, and the
  half-resolution delta is upsampled (bilinear) and added through the skin mask, as the element does;
- baseline: OpenCV's G-API face-beautification sample recipe, bilateral filter (d=9, sigmaColor=30, sigmaSpace=30)
  blended through the same skin mask (its unsharp mask on eyes/lips is left out: it sharpens, not retouches).
Writes out/eval/quality.json, docs/quality.md and before/after pictures.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
from beautynet import nets, synth  # noqa: E402

# only public-domain faces go into docs/img (the official portraits; astronaut.png's face is below MIN_FACE)
DOC_PICTURES = ("examples_obama-1080p.jpg", "examples_biden.jpg")
ZOOM = ("examples_obama-1080p.jpg", (150, 290, 40, 250))  # cheeks and smile lines, shown 2x (nearest)
GOALS = dict(de_reduction=0.70, texture=0.80, residual_ratio=0.10, feature_ssim=0.98)


def run_net(net, x, skin):
    """x, skin: [1,3,H,W]/[1,1,H,W] at crop size. Returns the composed output at crop size."""
    t = net.tier
    H, W = x.shape[-2:]
    wc = int(round(H * t.width / t.height))
    x0 = (W - wc) // 2
    xc, sc = x[..., x0:x0 + wc], skin[..., x0:x0 + wc]
    xin = F.interpolate(xc, size=(t.height, t.width), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        out = net(nets.to_net(xin))
    y = x.clone()
    y[..., x0:x0 + wc] = nets.compose(xc, out, sc)
    return y


def bilateral(x, skin):
    u8 = (x[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    b = cv2.bilateralFilter(u8, 9, 30, 30).astype(np.float32) / 255
    bt = torch.from_numpy(b).permute(2, 0, 1)[None]
    return x + skin * (bt - x)


def to_np(x):
    return x[0].permute(1, 2, 0).numpy().astype(np.float32)


def lab(x):
    return cv2.cvtColor(np.ascontiguousarray(to_np(x).clip(0, 1)), cv2.COLOR_RGB2Lab)


def luma255(x):
    a = to_np(x)
    return (0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]) * 255


def log_response(y):
    return cv2.Laplacian(cv2.GaussianBlur(y, (0, 0), 1.0), cv2.CV_32F, ksize=1)


def ssim_map(a, b):
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    g = lambda z: cv2.GaussianBlur(z, (11, 11), 1.5)  # noqa: E731
    ma, mb = g(a), g(b)
    va, vb, cov = g(a * a) - ma * ma, g(b * b) - mb * mb, g(a * b) - ma * mb
    return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))


SEG_SCALE = 0.67  # the segmenters were trained at the tiers' input sizes (face width ~75-115 px): judge there


def seg_rate(seg, y, skin):
    h, w = y.shape[-2:]
    size = (int(round(h * SEG_SCALE / 8)) * 8, int(round(w * SEG_SCALE / 8)) * 8)
    y = F.interpolate(y, size=size, mode="bilinear", align_corners=False, antialias=True)
    skin = F.interpolate(skin, size=size, mode="bilinear", align_corners=False)
    with torch.no_grad():
        p = torch.sigmoid(seg(y))
    m = skin > 0.5
    return float((p[m] > 0.5).float().mean())


def load_segs(path):
    sd = torch.load(path, map_location="cpu")
    segs = {}
    for k in ("disc", "judge"):
        s = nets.BlemishSeg(sd["width"])
        s.load_state_dict({n: v.float() if v.is_floating_point() else v for n, v in sd[k].items()})
        segs[k] = s.eval()
    return segs


def picture(rows, path):
    im = np.concatenate([np.concatenate([to_np(c) for c in r], 1) for r in rows], 0)
    cv2.imwrite(path, cv2.cvtColor((im.clip(0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, ".devdata", "faces.npz"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "eval"))
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--draws", type=int, default=2, help="blemish draws per validation face")
    ap.add_argument("--seed", type=int, default=4242)
    a = ap.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(os.path.join(a.docs, "img"), exist_ok=True)
    data = synth.load_faces(a.data, "cpu")
    val = np.nonzero(data["val"])[0]
    tiers = {n: nets.load_bmodel(os.path.join(a.models, "beautify-%s.bmodel" % n.lower())) for n in ("S", "M", "L")}
    segs = load_segs(os.path.join(a.models, "blemish_seg.pt"))
    methods = ["input"] + list(tiers) + ["bilateral"]
    acc = {m: dict(de_sum=0.0, de_n=0, tex=[], ssim_sum=0.0, ssim_n=0, disc=[], judge=[]) for m in methods}
    clean_rates = {"disc": [], "judge": []}
    g = torch.Generator().manual_seed(a.seed)
    samples = []
    for i in val:
        idx = torch.tensor([int(i)])
        c, sk, ft, po = synth.augment(data["img"][idx], data["skin"][idx], data["feat"][idx], data["pts"][idx], g,
                                      (360, 288), strong=False)
        for d in range(a.draws):
            x, bm = synth.add_blemishes(c, sk, po, g)
            outs = {"input": x, "bilateral": bilateral(x, sk)}
            for n, net in tiers.items():
                outs[n] = run_net(net, x, sk)
            lc = lab(c)
            bmn = bm[0, 0].numpy() > 0.5
            skn = sk[0, 0].numpy() > 0.5
            free = skn & (cv2.dilate(bm[0, 0].numpy(), np.ones((5, 5), np.uint8)) < 0.5)
            ftn = ft[0, 0].numpy() > 0.5
            lc_log = log_response(luma255(c))[free]
            yc = luma255(c)
            for k in clean_rates if d == 0 else ():
                clean_rates[k].append(seg_rate(segs[k], c, sk))
            for m, y in outs.items():
                r = acc[m]
                de = np.linalg.norm(lab(y) - lc, axis=-1)[bmn]
                r["de_sum"] += float(de.sum())
                r["de_n"] += int(de.size)
                if free.sum() > 200:
                    r["tex"].append(float(log_response(luma255(y))[free].var() / max(lc_log.var(), 1e-6)))
                s = ssim_map(luma255(y), yc)[ftn]
                r["ssim_sum"] += float(s.sum())
                r["ssim_n"] += int(s.size)
                for k in segs:
                    r[k].append(seg_rate(segs[k], y, sk))
            samples.append((str(data["name"][i]), c, x, outs, sk))
    res = {}
    de_in = acc["input"]["de_sum"] / acc["input"]["de_n"]
    for m in methods:
        r = acc[m]
        de = r["de_sum"] / r["de_n"]
        e = dict(delta_e=de, de_reduction=1 - de / de_in, texture=float(np.mean(r["tex"])),
                 feature_ssim=r["ssim_sum"] / r["ssim_n"])
        for k in segs:
            rate, rin, rc = np.mean(r[k]), np.mean(acc["input"][k]), np.mean(clean_rates[k])
            e["residual_%s_rate" % k] = float(rate)
            e["residual_%s_ratio" % k] = float(rate / max(rin, 1e-9))
            e["residual_%s_excess_ratio" % k] = float((rate - rc) / max(rin - rc, 1e-9))
        res[m] = e
    # per blemish type: the same faces and draws with one kind at a time (Delta E only)
    per_type = {}
    for kind in synth.BLEMISH_TYPES:
        g2 = torch.Generator().manual_seed(a.seed + 1)
        de = {m: [0.0, 0] for m in methods}
        area = []
        for i in val:
            idx = torch.tensor([int(i)])
            c, sk, ft, po = synth.augment(data["img"][idx], data["skin"][idx], data["feat"][idx], data["pts"][idx],
                                          g2, (360, 288), strong=False)
            x, bm = synth.add_blemishes(c, sk, po, g2, types=(kind,))
            bmn = bm[0, 0].numpy() > 0.5
            if not bmn.any():
                continue
            area.append(bmn.sum() / max(1, (sk[0, 0].numpy() > 0.5).sum()))
            outs = {"input": x, "bilateral": bilateral(x, sk)}
            outs.update({n: run_net(net, x, sk) for n, net in tiers.items()})
            lc = lab(c)
            for m, y in outs.items():
                e = np.linalg.norm(lab(y) - lc, axis=-1)[bmn]
                de[m][0] += float(e.sum())
                de[m][1] += int(e.size)
        din = de["input"][0] / max(1, de["input"][1])
        per_type[kind] = dict(faces=len(area), mask_share_of_skin=float(np.mean(area)) if area else 0.0,
                              input_delta_e=din, de_reduction={m: 1 - (v[0] / max(1, v[1])) / max(din, 1e-9)
                                                               for m, v in de.items() if m != "input"})
    meta = dict(faces=int(len(val)), draws=a.draws, seed=a.seed, crop="288x360 (face width ~170 px)",
                runtime="PyTorch deploy mode, weights read from the shipped .bmodel files",
                clean_seg_rate={k: float(np.mean(v)) for k, v in clean_rates.items()},
                identities=sorted({str(x) for x in data["name"][val]}), goals=GOALS,
                baseline="cv2.bilateralFilter(d=9, sigmaColor=30, sigmaSpace=30) through the same skin mask")
    with open(os.path.join(a.out, "quality.json"), "w") as f:
        json.dump(dict(meta=meta, results=res, per_type=per_type), f, indent=1)
    # pictures: every validation face for looking (out/eval), public-domain ones also for docs/img
    for n, (name, c, x, outs, sk) in enumerate(samples[::a.draws]):
        rows = [[x, outs["S"], outs["M"], outs["L"], outs["bilateral"], c]]
        real = [c] + [run_net(tiers[t], c, sk) for t in ("S", "M", "L")] + [bilateral(c, sk), c * 0 + sk]
        rows.append(real)
        stem = os.path.splitext(name)[0]
        picture(rows, os.path.join(a.out, "%02d_%s.png" % (n, stem)))
        if name in DOC_PICTURES:
            picture(rows, os.path.join(a.docs, "img", "quality_%s.png" % stem))
        if name == ZOOM[0]:
            y0, y1, x0, x1 = ZOOM[1]
            z = lambda t: F.interpolate(t[..., y0:y1, x0:x1], scale_factor=2, mode="nearest")  # noqa: E731
            picture([[z(x), z(outs["L"]), z(outs["bilateral"])], [z(c), z(real[3]), z(real[4])]],
                    os.path.join(a.docs, "img", "quality_zoom_%s.png" % stem))
    write_md(res, meta, per_type, os.path.join(a.docs, "quality.md"), a.docs)
    print(json.dumps(res, indent=1))


def write_md(res, meta, per_type, path, docs):
    g = meta["goals"]
    pics = sorted(f for f in os.listdir(os.path.join(docs, "img")) if f.startswith("quality_"))
    ok = lambda v, goal, hi=True: ("**%.3f** ✓" if (v >= goal if hi else v <= goal) else "%.3f ✗") % v  # noqa: E731
    L = ["# Beauty-net quality report", "",
         "Generated by `scripts/eval` (models/beautynet/evaluate.py); numbers in `out/eval/quality.json`. "
         "Do not edit by hand: rerun the script.", "",
         "Setup: %d validation faces (sources and identities never seen in training: %s), %d synthetic-blemish "
         "draws each (seed %d), at the stored crop size %s. Nets: %s. Baseline: %s." % (
             meta["faces"], ", ".join(meta["identities"]), meta["draws"], meta["seed"], meta["crop"],
             meta["runtime"], meta["baseline"]), "",
         "| method | blemish ΔE (CIELAB) | ΔE reduction (goal ≥ %.2f) | texture retention (goal ≥ %.2f) | "
         "residual blemish rate, judge (goal ≤ %.2f of input) | same, disc | feature SSIM (goal ≥ %.2f) |" % (
             g["de_reduction"], g["texture"], g["residual_ratio"], g["feature_ssim"]),
         "|---|---|---|---|---|---|---|"]
    for m, e in res.items():
        L.append("| %s | %.2f | %s | %s | %s (rate %.4f) | %.3f | %s |" % (
            m, e["delta_e"], ok(e["de_reduction"], g["de_reduction"]) if m != "input" else "0",
            ok(e["texture"], g["texture"]), ok(e["residual_judge_ratio"], g["residual_ratio"], False)
            if m != "input" else "1", e["residual_judge_rate"], e["residual_disc_ratio"],
            ok(e["feature_ssim"], g["feature_ssim"])))
    L += ["",
          "- **Blemish ΔE**: mean CIELAB ΔE76 to the clean source inside the exact synthetic-blemish masks; "
          "reduction = 1 − output/input.",
          "- **Texture retention**: variance of a Laplacian of Gaussian (σ = 1 px) of luma in blemish-free skin "
          "(skin mask > 0.5, blemish mask dilated by 2 px removed), output / clean source, mean over samples.",
          "- **Residual blemish rate**: share of skin pixels the frozen segmenter calls blemish (p > 0.5), output "
          "/ input. `judge` is a second segmenter trained alongside but never used as a loss, so the nets were not "
          "optimised against it; `disc` is the one used in fine-tuning. On the clean sources the rates are "
          "judge %.4f, disc %.4f (false positives: the floor no method can go below)." % (
              meta["clean_seg_rate"]["judge"], meta["clean_seg_rate"]["disc"]),
          "- **Feature SSIM**: SSIM of luma (11×11 Gaussian window, σ 1.5) to the clean source, averaged over the "
          "eye/brow/lip mask. The skin mask is zero there by construction, so this checks that nothing leaks "
          "onto the features through the upsampled delta or the feathering.",
          "", "## Blemish ΔE reduction per blemish type", "",
          "Same faces, one kind of blemish at a time (seed %d), mean ΔE inside its mask; the mask share is the part "
          "of the skin the kind changes by more than 3/255." % (meta["seed"] + 1), "",
          "| type | faces | mask share of skin | input ΔE | " + " | ".join(
              m for m in next(iter(per_type.values()))["de_reduction"]) + " |",
          "|---|---|---|---|" + "---|" * len(next(iter(per_type.values()))["de_reduction"])]
    for k, v in per_type.items():
        L.append("| %s | %d | %.3f | %.2f | %s |" % (k, v["faces"], v["mask_share_of_skin"], v["input_delta_e"],
                                                    " | ".join("%.2f" % r for r in v["de_reduction"].values())))
    L += ["", "## Pictures (public-domain faces only)", "",
          "Top row: input with synthetic blemishes → S → M → L → bilateral baseline → clean source. "
          "Bottom row: the real photo (no synthetic blemishes) → S → M → L → bilateral → skin mask. "
          "Zoom (2×, nearest): top = input with blemishes → L → bilateral; bottom = clean photo → L on the clean "
          "photo → bilateral on the clean photo.", ""]
    L += ["![%s](img/%s)" % (p, p) for p in pics]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
