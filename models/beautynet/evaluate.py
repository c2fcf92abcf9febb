"""Quality evaluation of the beauty-net tiers and of a classical baseline (entry point: scripts/eval).

Validation faces (prepare_data.py's held-out sources and identities) at the stored crop size (288x360, face width
~170 px). Each face's clean base B (synth.clean_base: its own strong outliers removed, zero mean change) gets
synthetic blemishes with a fixed seed; B is the reference, exactly as in training. Per method:
- the nets run in PyTorch deploy mode with the weights read from the .bmodel files (tests/models shows the C++
  engine matches that within 3e-6); the crop is cut to the tier's aspect and resized to its input, the retouch
  layers are upsampled (bilinear) and applied through the skin mask as the element applies them, including the
  frame-resolution spot step (gst/blend/blend.h; `-nospot` rows show the tier without it);
- `cap-*`: the best possible blemish delta on a tier's output grid (B - X area-averaged to the grid, upsampled):
  what a perfect net with that output resolution could reach (reference lines; v1's half-resolution grid too);
- baseline: OpenCV's G-API face-beautification sample recipe, bilateral filter (d=9, sigmaColor=30, sigmaSpace=30)
  blended through the same skin mask.
Measures (docs/quality.md says each in words): blemish ΔE reduction pooled, per type (one family at a time,
including the held-out family the nets never saw) and per instance (every blemish counts once, whatever its area);
chroma left inside the masks (colour ghosts); clean-skin drift and mean offset on the clean photos; texture
retention; feature SSIM; the same per skin tone. Temporal stability is measured on real clips by flicker.py
(scripts/eval-temporal, docs/temporal.md). Writes out/eval/quality.json, docs/quality.md and pictures.
"""
import argparse
import json
import os
import re
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
from beautynet import arch, nets, synth  # noqa: E402

# only public-domain faces go into docs/img (the official portraits)
DOC_PICTURES = ("examples_obama-1080p.jpg", "examples_biden.jpg")
ZOOM = (110, 290, 30, 258)  # cheeks, nose and smile lines of the crop, shown 2x (nearest)
GOALS = dict(de_reduction=0.75, de_reduction_type=0.6, de_reduction_L=0.8, drift=0.6, mean_offset=0.5,
             ghost=0.25, texture=0.9, feature_ssim=0.98)
GRID_ORACLE = "M+grid-fix"  # per-type diagnostic column: M with its remaining error on its own grid removed
SPOT_TAU = 2.5  # gst/blend/blend.h: the spot step compresses the high band above 2.5 x its mean on the skin


def element_default(name):
    """A default of the element's properties, read from gst/settings.h (their one source)."""
    with open(os.path.join(ROOT, "gst", "settings.h")) as f:
        return float(re.search(r"constexpr double %s = ([0-9.]+);" % name, f.read()).group(1))


ELEMENT_TONE = element_default("tone")
ELEMENT_STRENGTH = element_default("strength")
# Per-tone rows: a melanin-like tint of the whole picture (the training augmentation's), or "light": the photo under
# a colourless uneven light field (synth.uneven_light), which a retouch must keep (its drift row says how much of
# the light it flattened).
TONES = (("photo", 0.0), ("medium (synthetic)", 0.5), ("dark (synthetic)", 1.1), ("uneven light (synthetic)", "light"))


def cut(t_w, t_h, x):
    H, W = x.shape[-2:]
    wc = int(round(H * t_w / t_h))
    return (W - wc) // 2, wc


def spot_step(x, alpha, skin, r):
    """The element's frame-resolution spot step (blend.h) on RGB in [0,1]: box low band of radius r, high band
    compressed above tau = 2.5 x its mean |high| on the skin, weighted by alpha."""
    u = x[0].permute(1, 2, 0).numpy() * 255
    low = cv2.blur(u, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REPLICATE)
    high = u - low
    m = skin[0, 0].numpy() > 0
    tau = np.maximum(1.0, SPOT_TAU * np.abs(high[m]).mean(0)) if m.any() else np.ones(3)
    s = tau * np.tanh(high / tau) - high
    return torch.from_numpy(s / 255).permute(2, 0, 1)[None].float() * alpha


def run_net(net, x, skin, spot=True, tone=0.0):
    """x, skin: [1,3,H,W]/[1,1,H,W] at crop size. Returns the output at crop size."""
    t = net.tier
    x0, wc = cut(t.width, t.height, x)
    xc, sc = x[..., x0:x0 + wc], skin[..., x0:x0 + wc]
    xin = F.interpolate(xc, size=(t.height, t.width), mode="bilinear", align_corners=False, antialias=True)
    with torch.no_grad():
        db, dt, al = nets.layers(net(nets.to_net(xin)))
    up = lambda m: F.interpolate(m, size=xc.shape[-2:], mode="bilinear", align_corners=False)  # noqa: E731
    d = up(db) + tone * up(dt)
    r = int(round(wc / t.width))
    if spot and wc / t.width > 1.5:
        d = d + spot_step(xc, up(al), sc, r)
    y = x.clone()
    y[..., x0:x0 + wc] = (xc + sc * d).clamp(0, 1)
    return y


def as_element_writes(x, y):
    """y as the element writes it on an RGB frame: x + the delta rounded to whole code values (gst/blend/blend.h;
    on 8-bit x exactly the element's rounding to nearest)."""
    return (x + torch.round((y - x) * 255) / 255).clamp(0, 1)


def cap(x, b, skin, w, h):
    """Best possible delta on a w x h grid over the tier's cut: area-average of (B - X), upsampled bilinearly."""
    x0, wc = cut(w, h, x)
    d = (b - x)[..., x0:x0 + wc]
    dg = F.interpolate(d, size=(h, w), mode="area")
    y = x.clone()
    y[..., x0:x0 + wc] = (x[..., x0:x0 + wc] + skin[..., x0:x0 + wc] *
                          F.interpolate(dg, size=d.shape[-2:], mode="bilinear", align_corners=False)).clamp(0, 1)
    return y


def bilateral(x, skin):
    u8 = (x[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    b = cv2.bilateralFilter(u8, 9, 30, 30).astype(np.float32) / 255
    return x + skin * (torch.from_numpy(b).permute(2, 0, 1)[None] - x)


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


def retone(img, mel, pts, seed):
    """A darker skin tone (synthetic, mel: the training augmentation's melanin-like tint) or, for mel == "light",
    the photo under an uneven light field drawn from its own generator (the main draws stay as they were)."""
    if mel == "light":
        g = torch.Generator().manual_seed(seed)
        f = synth.uneven_light(g, 1, img.shape[2], img.shape[3], float(synth.face_scale(pts).mean()), "cpu",
                               torch.ones(1, dtype=torch.bool))
        return (img * f).clamp(0, 1)
    return (img * torch.exp(-mel * torch.tensor([0.55, 0.75, 0.9])[None, :, None, None])).clamp(0, 1)


class Acc:
    """Sums of one method's measures over samples."""

    def __init__(self):
        self.s = {}

    def add(self, k, v, n=1):
        a = self.s.setdefault(k, [0.0, 0])
        a[0] += v
        a[1] += n

    def mean(self, k):
        a = self.s.get(k, [0.0, 0])
        return a[0] / max(a[1], 1)

    def lst(self, k, v):
        self.s.setdefault(k, []).append(v)


def measure_blemished(acc, y, x, b, bl, lb, skin, feat):
    """Blemish removal (pooled, per instance), ghosts, texture, feature SSIM of one output y."""
    bm = bl["mask"][0, 0].numpy() > 0.5
    ly = lab(y)
    de = np.linalg.norm(ly - lb, axis=-1)
    acc.add("de", float(de[bm].sum()), int(bm.sum()))
    ch = np.linalg.norm((ly - lb)[..., 1:], axis=-1)
    acc.add("chroma", float(ch[bm].sum()), int(bm.sum()))
    inst = bl["inst"][0].numpy()
    de_in = np.linalg.norm(lab(x) - lb, axis=-1)
    for k, kind in enumerate(bl["kinds"]):
        m = inst[k] & bm
        if m.sum() >= 2:
            acc.lst("inst", (kind, float(de[m].mean()), float(de_in[m].mean())))
    skn = skin[0, 0].numpy() > 0.5
    free = skn & (cv2.dilate(bl["mask"][0, 0].numpy(), np.ones((5, 5), np.uint8)) < 0.5)
    if free.sum() > 200:
        ref = log_response(luma255(b))[free].var()
        acc.lst("tex", float(log_response(luma255(y))[free].var() / max(ref, 1e-6)))
    ftn = feat[0, 0].numpy() > 0.5
    s = ssim_map(luma255(y), luma255(b))[ftn]
    acc.add("ssim", float(s.sum()), int(s.size))


def measure_clean(acc, y, b, c, skin):
    """On a clean photo (no synthetic blemishes): drift = what the method changes on its skin (ΔE to the photo,
    and the mean RGB / L*a*b* offset), and the distance to its clean base B (which also counts the photo's own
    outliers that B removes)."""
    skn = skin[0, 0].numpy() > 0.5
    lc, ly = lab(c), lab(y)
    acc.add("drift", float(np.linalg.norm(ly - lc, axis=-1)[skn].sum()), int(skn.sum()))
    acc.add("drift_B", float(np.linalg.norm(ly - lab(b), axis=-1)[skn].sum()), int(skn.sum()))
    off = (to_np(y) - to_np(c))[skn].mean(0) * 255
    for i, ch in enumerate("RGB"):
        acc.add("offset_" + ch, float(off[i]))
    for i, ch in enumerate("Lab"):
        acc.add("dlab_" + ch, float((ly - lc)[skn][:, i].mean()))


def per_instance(lst, kinds=None):
    r = [1 - o / max(i, 1e-6) for k, o, i in lst if (kinds is None or k in kinds) and i > 0.5]
    return float(np.mean(r)) if r else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, ".devdata", "faces.npz"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "eval"))
    ap.add_argument("--docs", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--draws", type=int, default=2, help="blemish draws per validation face")
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--int8", action="store_true", help="run the nets as the engine's precision=int8 does (the files' "
                    "calibration; nets.set_int8), to compare with the default float figures (issue 9's bound); needs "
                    "--out and --docs of its own, e.g. scripts/eval --int8 --out out/eval-int8 --docs out/eval-int8")
    a = ap.parse_args()
    defaults = ap.parse_args([])
    if a.int8 and (a.docs == defaults.docs or a.out == defaults.out):
        ap.error("--int8 writes its own figures: give --out and --docs away from the float ones (e.g. out/eval-int8)")
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(os.path.join(a.docs, "img"), exist_ok=True)
    data = synth.load_faces(a.data, "cpu")
    val = np.nonzero(data["val"])[0]
    tiers = {n: nets.load_bmodel(os.path.join(a.models, "beautify-%s.bmodel" % n.lower()), int8_mode=a.int8)
             for n in ("S", "M", "L")}
    methods = {"input": lambda x, sk: x}
    for n, net in tiers.items():
        methods[n] = lambda x, sk, net=net: run_net(net, x, sk)
    methods["M-nospot"] = lambda x, sk: run_net(tiers["M"], x, sk, spot=False)
    methods["M-8bit"] = lambda x, sk: as_element_writes(x, run_net(tiers["M"], x, sk))
    methods["M+tone"] = lambda x, sk: run_net(tiers["M"], x, sk, tone=ELEMENT_TONE)
    methods["M default 8-bit"] = lambda x, sk: as_element_writes(
        x, x + ELEMENT_STRENGTH * (run_net(tiers["M"], x, sk, tone=ELEMENT_TONE) - x))
    methods["bilateral"] = bilateral
    caps = {"cap-%s" % n: (t.tier.width, t.tier.height) for n, t in tiers.items()}
    caps["cap-M-half-res (v1 grid)"] = (tiers["M"].tier.width // 2, tiers["M"].tier.height // 2)
    acc = {m: Acc() for m in list(methods) + list(caps)}
    tone_acc = {t: {m: Acc() for m in ("input", "M", "L")} for t, _ in TONES}
    base_dist = Acc()
    samples = []
    g = torch.Generator().manual_seed(a.seed)
    for i in val:
        idx = torch.tensor([int(i)])
        c0, sk, ft, po = synth.augment(data["img"][idx], data["skin"][idx], data["feat"][idx], data["pts"][idx], g,
                                       (360, 288), strong=False)
        for tone_name, mel in TONES:
            c = retone(c0, mel, po, a.seed + 7 + int(i)) if mel else c0
            b = synth.clean_base(c, sk, po)
            if not mel:
                measure_clean(base_dist, b, c, c, sk)  # the target's own distance to the photo
            for m in (tone_acc[tone_name] if mel else list(methods)):
                measure_clean((tone_acc[tone_name] if mel else acc)[m], methods[m](c, sk), b, c, sk)
            lb = lab(b)
            for d in range(a.draws if not mel else 1):
                bl = synth.add_blemishes(b, sk, po, g)
                x = bl["x"]
                if mel:
                    for m in tone_acc[tone_name]:
                        measure_blemished(tone_acc[tone_name][m], methods[m](x, sk), x, b, bl, lb, sk, ft)
                    continue
                outs = {m: f(x, sk) for m, f in methods.items()}
                outs.update({m: cap(x, b, sk, *wh) for m, wh in caps.items()})
                for m, y in outs.items():
                    measure_blemished(acc[m], y, x, b, bl, lb, sk, ft)
                if d == 0:
                    samples.append((str(data["name"][i]), c, b, x, outs, sk))
    for m in ("M", "L"):  # photo-tone rows of the per-tone table are the main run's
        tone_acc["photo"][m] = acc[m]
    tone_acc["photo"]["input"] = acc["input"]

    def summary(r, r_in):
        e = dict(delta_e=r.mean("de"), de_reduction=1 - r.mean("de") / r_in.mean("de"),
                 per_instance=per_instance(r.s.get("inst", [])),
                 ghost=r.mean("chroma") / max(r_in.mean("chroma"), 1e-9),
                 texture=float(np.mean(r.s["tex"])) if r.s.get("tex") else float("nan"),
                 feature_ssim=r.mean("ssim"), drift=r.mean("drift"), drift_to_B=r.mean("drift_B"),
                 mean_offset=[r.mean("offset_" + ch) for ch in "RGB"],
                 mean_dlab=[r.mean("dlab_" + ch) for ch in "Lab"])
        return e
    res = {m: summary(acc[m], acc["input"]) for m in acc}
    tones = {t: {m: summary(v, d["input"]) for m, v in d.items()} for t, d in tone_acc.items()}
    # per blemish type: the same faces and places, one family at a time (the held-out family included)
    per_type = {}
    type_methods = ["input", "S", "M", "L", "M-nospot", "bilateral"]
    for kind in synth.BLEMISH_TYPES:
        g2 = torch.Generator().manual_seed(a.seed + 1)
        ta = {m: Acc() for m in type_methods + ["cap-M", GRID_ORACLE]}
        area = []
        for i in val:
            idx = torch.tensor([int(i)])
            c, sk, ft, po = synth.augment(data["img"][idx], data["skin"][idx], data["feat"][idx], data["pts"][idx],
                                          g2, (360, 288), strong=False)
            b = synth.clean_base(c, sk, po)
            bl = synth.add_blemishes(b, sk, po, g2, types=(kind,))
            if not (bl["mask"] > 0.5).any():
                continue
            area.append(float(bl["mask"].sum() / (sk > 0.5).sum().clamp(min=1)))
            lb = lab(b)
            outs = {m: methods[m](bl["x"], sk) for m in type_methods}
            outs["cap-M"] = cap(bl["x"], b, sk, *caps["cap-M"])
            outs[GRID_ORACLE] = cap(outs["M"], b, sk, *caps["cap-M"])  # M's own error on its grid removed
            for m, y in outs.items():
                measure_blemished(ta[m], y, bl["x"], b, bl, lb, sk, ft)
        per_type[kind] = dict(faces=len(area), mask_share_of_skin=float(np.mean(area)) if area else 0.0,
                              held_out=kind in (synth.HELD_OUT, synth.MIXED), input_delta_e=ta["input"].mean("de"),
                              de_reduction={m: 1 - ta[m].mean("de") / max(ta["input"].mean("de"), 1e-9)
                                            for m in ta if m != "input"},
                              per_instance={m: per_instance(ta[m].s.get("inst", [])) for m in ta if m != "input"},
                              ghost={m: ta[m].mean("chroma") / max(ta["input"].mean("chroma"), 1e-9)
                                     for m in ta if m != "input"})
    meta = dict(faces=int(len(val)), draws=a.draws, seed=a.seed, crop="288x360 (face width ~170 px)",
                runtime="PyTorch deploy mode, weights read from the .bmodel files" + (
                    ", run as the engine's int8 path (activations rounded to the files' calibration)" if a.int8 else ""),
                models={n: os.path.relpath(os.path.join(a.models, "beautify-%s.bmodel" % n.lower()), ROOT)
                        for n in tiers},
                target_vs_photo=dict(delta_e=base_dist.mean("drift"),
                                     mean_offset=[base_dist.mean("offset_" + ch) for ch in "RGB"]),
                identities=sorted({str(x) for x in data["name"][val]}), goals=GOALS, held_out=synth.HELD_OUT,
                baseline="cv2.bilateralFilter(d=9, sigmaColor=30, sigmaSpace=30) through the same skin mask")
    with open(os.path.join(a.out, "quality.json"), "w") as f:
        json.dump(dict(meta=meta, results=res, per_type=per_type, tones=tones), f, indent=1)
    pictures(samples, tiers, a)
    write_md(res, meta, per_type, tones, os.path.join(a.docs, "quality.md"), a.docs)
    print(json.dumps({m: {k: v for k, v in e.items() if k in ("de_reduction", "per_instance", "ghost", "drift",
                                                               "texture")} for m, e in res.items()}, indent=1))


def label(img, text):
    im = (to_np(img).clip(0, 1) * 255 + 0.5).astype(np.uint8).copy()
    cv2.rectangle(im, (0, 0), (im.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(im, text, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return im


def save(rows, path):
    im = np.concatenate([np.concatenate(r, 1) for r in rows], 0)
    cv2.imwrite(path, cv2.cvtColor(im, cv2.COLOR_RGB2BGR))


def pictures(samples, tiers, a):
    """Every validation face for looking (out/eval); public-domain ones also in docs/img, with a 2x zoom."""
    y0, y1, x0, x1 = ZOOM
    z = lambda t: F.interpolate(t[..., y0:y1, x0:x1], scale_factor=2, mode="nearest")  # noqa: E731
    for n, (name, c, b, x, outs, sk) in enumerate(samples):
        real = {t: run_net(tiers[t], c, sk) for t in ("M", "L")}
        rows = [[label(x, "input + synthetic"), label(outs["S"], "S"), label(outs["M"], "M"), label(outs["L"], "L"),
                 label(outs["bilateral"], "bilateral"), label(b, "clean base B")],
                [label(c, "real photo"), label(run_net(tiers["S"], c, sk), "S"), label(real["M"], "M"),
                 label(real["L"], "L"), label(bilateral(c, sk), "bilateral"), label(c * 0 + sk, "skin mask")]]
        stem = os.path.splitext(name)[0]
        save(rows, os.path.join(a.out, "%02d_%s.png" % (n, stem)))
        if name in DOC_PICTURES:
            save(rows, os.path.join(a.docs, "img", "quality_%s.png" % stem))
            save([[label(z(x), "before (synthetic blemishes)"), label(z(outs["M"]), "after, M, strength 1"),
                   label(z(b), "clean base")],
                  [label(z(c), "before (real photo)"), label(z(real["M"]), "after, M, strength 1"),
                   label(z(bilateral(c, sk)), "bilateral baseline")]],
                 os.path.join(a.docs, "img", "quality_zoom_%s.png" % stem))


def write_md(res, meta, per_type, tones, path, docs):
    g = meta["goals"]
    pics = sorted(f for f in os.listdir(os.path.join(docs, "img")) if f.startswith("quality_"))
    ok = lambda v, goal, hi=True: ("**%.2f** ✓" if (v >= goal if hi else v <= goal) else "%.2f ✗") % v  # noqa: E731
    L = ["# Beauty-net quality report", "",
         "Generated by `scripts/eval` (models/beautynet/evaluate.py); numbers in `out/eval/quality.json`. "
         "Do not edit by hand: rerun the script. Temporal stability on real clips: [temporal.md](temporal.md).", "",
         "Setup: %d validation faces (sources and identities never seen in training: %s), %d synthetic-blemish "
         "draws each (seed %d), at the stored crop size %s. Reference: each face's clean base B (its own strong "
         "outliers removed, zero mean change: ΔE %.2f from the photo on skin, mean offset %s /255), on which the "
         "blemishes are drawn, exactly as in training. Nets: %s (%s). Baseline: %s." % (
             meta["faces"], ", ".join(meta["identities"]), meta["draws"], meta["seed"], meta["crop"],
             meta["target_vs_photo"]["delta_e"], ", ".join("%.2f" % v for v in meta["target_vs_photo"]["mean_offset"]),
             meta["runtime"], ", ".join(meta["models"].values()), meta["baseline"]), "",
         "| method | blemish ΔE | ΔE reduction (goal ≥ %.2f; L ≥ %.2f) | per instance | chroma left (goal ≤ %.2f) | "
         "clean-skin drift ΔE (goal ≤ %.1f) | mean offset R, G, B /255 (goal ≤ %.1f) | texture (goal ≥ %.1f) | "
         "feature SSIM (goal ≥ %.2f) |" % (g["de_reduction"], g["de_reduction_L"], g["ghost"], g["drift"],
                                          g["mean_offset"], g["texture"], g["feature_ssim"]),
         "|---|---|---|---|---|---|---|---|---|"]
    for m, e in res.items():
        if m == "input":
            L.append("| input | %.2f | 0 | 0 | 1 | – | – | – | %.4f |" % (e["delta_e"], e["feature_ssim"]))
            continue
        capr = m.startswith("cap")
        goal = g["de_reduction_L"] if m == "L" else g["de_reduction"]
        offs = e["mean_offset"]
        L.append("| %s | %.2f | %s | %.2f | %s | %s | %s | %s | %s |" % (
            m, e["delta_e"], ("%.2f" % e["de_reduction"]) if capr else ok(e["de_reduction"], goal),
            e["per_instance"], ("%.2f" % e["ghost"]) if capr else ok(e["ghost"], g["ghost"], False),
            "–" if capr else ok(e["drift"], g["drift"], False),
            "–" if capr else ", ".join(("%.2f" if abs(v) <= g["mean_offset"] else "%.2f ✗") % v for v in offs),
            "–" if capr else ok(e["texture"], g["texture"]), "–" if capr else ok(e["feature_ssim"], g["feature_ssim"])))
    kinds = list(per_type)
    cols = list(next(iter(per_type.values()))["de_reduction"])
    L += ["",
          "- **Blemish ΔE**: mean CIELAB ΔE76 to B inside the exact synthetic-blemish masks (pixels the blemishes "
          "changed by more than 3/255); reduction = 1 − output/input, pooled over all pixels of all masks.",
          "- **Per instance**: the same reduction per drawn blemish (its own footprint), then averaged over "
          "blemishes, so a 2-px spot counts as much as a redness patch.",
          "- **Chroma left**: mean √(Δa*² + Δb*²) to B inside the masks, output / input: what is left of the "
          "blemishes' colour (a red spot turned grey-green keeps its chroma error).",
          "- **Clean-skin drift**: on the clean photos (no synthetic blemishes), what the method changes: mean ΔE "
          "to the photo over the skin (mask > 0.5); the mean offset is the mean RGB difference there, in 8-bit "
          "units. (`drift_to_B` in the JSON is the distance to the clean base instead; B itself is %.2f from the "
          "photo.)" % meta["target_vs_photo"]["delta_e"],
          "- **Texture retention**: variance of a Laplacian of Gaussian (σ = 1 px) of luma in blemish-free skin, "
          "output / B, mean over samples.",
          "- **Feature SSIM**: SSIM of luma to B on the eye/brow/lip mask (zero skin mask there by construction: "
          "it checks that nothing leaks).",
          "- **cap-T**: the best possible blemish delta on tier T's output grid (its full input resolution, v2), "
          "and on the half-resolution grid the v1 nets had; not a method, a ceiling for that output resolution.",
          "- **M-nospot**: tier M without the frame-resolution spot step (the upsampled delta alone).",
          "- **%s** (per-type table): a diagnostic, not a method: M's output with its remaining error (B − output) "
          "area-averaged to M's output grid removed, as cap-M does from the input. What it leaves is the error finer "
          "than the net's grid; the gap between it and M is the net's own error at its resolution." % GRID_ORACLE,
          "- **M-8bit**: tier M's output as the element writes it on an 8-bit RGB frame (the delta rounded to "
          "nearest): corrections below half a code value are dropped, so its clean-skin drift is lower.",
          "- **M+tone**: tier M with its tone layer added at the element's default `tone` (%.1f, gst/settings.h): "
          "the blemish and tone layers as the element mixes them by default, at strength 1 (the other rows are the "
          "blemish layer alone)." % ELEMENT_TONE,
          "- **M default 8-bit**: what a user gets with the element's defaults: M+tone at the default `strength` "
          "(%.1f, gst/settings.h), written on an 8-bit RGB frame as M-8bit." % ELEMENT_STRENGTH,
          "", "## Per blemish type", "",
          "Same faces, one family at a time (seed %d). `%s` is held out: never drawn in training; `%s` (random "
          "mixtures of the two pigments, any outline) is not drawn by the shipped weights' training either, and is "
          "not in the pooled figures. ΔE reduction pooled / per instance / chroma left."
          % (meta["seed"] + 1, meta["held_out"], synth.MIXED), "",
          "| type | faces | mask share of skin | input ΔE | " + " | ".join(cols) + " |",
          "|---|---|---|---|" + "---|" * len(cols)]
    for k in kinds:
        v = per_type[k]
        L.append("| %s%s | %d | %.3f | %.2f | %s |" % (
            k, " (held out)" if v["held_out"] else "", v["faces"], v["mask_share_of_skin"], v["input_delta_e"],
            " | ".join("%.2f / %.2f / %.2f" % (v["de_reduction"][m], v["per_instance"][m], v["ghost"][m])
                       for m in cols)))
    L += ["", "## Per skin tone", "",
          "The validation photos are mostly light-skinned; `medium` and `dark` are the same faces with the "
          "training augmentation's melanin-like tint (synthetic, a stand-in for real darker skin, which the data "
          "set lacks), blemishes drawn on their own clean base. `uneven light` is the photo under a colourless "
          "smooth light field (soft shadows, ±3–9 %, `synth.uneven_light`): light a retouch must keep, so its "
          "clean-skin drift next to the photo's says how much of the light the net flattens.", "",
          "| tone | method | ΔE reduction | per instance | chroma left | clean-skin drift ΔE | mean offset R, G, B |",
          "|---|---|---|---|---|---|---|"]
    for t, d in tones.items():
        for m, e in d.items():
            if m != "input":
                L.append("| %s | %s | %.2f | %.2f | %.2f | %.2f | %s |" % (
                    t, m, e["de_reduction"], e["per_instance"], e["ghost"], e["drift"],
                    ", ".join("%.2f" % v for v in e["mean_offset"])))
    L += ["", "## Pictures (public-domain faces only)", "",
          "`quality_<face>.png`: top row input with synthetic blemishes → S → M → L → bilateral → clean base B; "
          "bottom row the real photo → S → M → L → bilateral → skin mask. `quality_zoom_<face>.png`: cheeks and "
          "nose at 2× (nearest), before/after at tier M, strength 1.", ""]
    L += ["![%s](img/%s)" % (p, p) for p in pics]
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
