"""Trains beauty-net tiers (v2: clean-base targets, retouch layers at full input resolution) and exports .bmodel
files. One process per tier is the usual way on a GPU (tiny nets leave a GPU mostly idle, so three processes run
side by side); `--tiers S,M,L` trains several in turn within one process (the CPU smoke test does that).

Per step and tier: a batch of synthetic pairs (synth.make_batch: clean base B, blemishes drawn on B, target B),
AdamW with a cosine schedule and warm-up, an EMA of the weights (the EMA is what is exported), and at every
quarter of the run a validation pass on held-out faces (removal inside the blemish masks, drift and mean offset
on clean skin) plus an export, so a run cut short still leaves usable files. Step counts define the run
(`--steps`); `--steps 0 --budget-seconds T` picks the count from the measured speed of the first steps and logs
it, so the run can be repeated with `--steps N`. `--resume` continues from the checkpoint in --out.
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from beautynet import arch, int8, losses, nets, synth  # noqa: E402


def cosine(step, total, lr0, warm):
    if step < warm:
        return lr0 * (step + 1) / warm
    return lr0 * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm)))))


class Trainer:
    """One tier: net, EMA copy, optimiser."""

    def __init__(self, tier, a, dev):
        self.tier = tier
        self.net = nets.BeautyNet(tier).to(dev)
        self.ema = copy.deepcopy(self.net).eval().requires_grad_(False)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=a.lr, weight_decay=a.wd)
        self.decay = a.ema
        self.queue = []  # synthesised batches not used yet
        self.pair_queue = []  # the same for the consecutive video frames (--w-temp-video)
        self.teacher = None  # the net a fine-tune started from, frozen (distillation target; --qat, --w-distill)
        self.external_teacher = False  # the teacher came from --teacher files: not saved, reloaded on resume

    @torch.no_grad()
    def update_ema(self, step):
        d = min(self.decay, (1 + step) / (10 + step))
        for pe, p in zip(self.ema.parameters(), self.net.parameters()):
            pe.lerp_(p, 1 - d)
        for be, b in zip(self.ema.buffers(), self.net.buffers()):
            be.copy_(b)

    def to_int8(self, maxima, a, net=None, teacher=None):
        """Quantisation-aware fine-tuning from here on (--qat): the deploy form of the EMA weights (RepVGG branches
        and BN folded: the int8 grid is the folded weights'; or `net`, a deploy form to be loaded into), run as the
        engine's int8 path runs it (nets.set_int8: inputs and weights fake-quantised, straight-through gradients),
        with a fresh EMA and optimiser; the float net it starts from is the distillation teacher (or `teacher`, a
        resumed run's)."""
        net = self.ema.fold() if net is None else net
        self.teacher = teacher if teacher is not None else copy.deepcopy(net).eval().requires_grad_(False)
        net.set_int8(maxima)
        self.use_deploy_form(net, a)

    def use_deploy_form(self, net, a):
        """Trains `net`, a deploy form (plain convs: --qat, or a shipped .bmodel with --init-bmodel), from here on,
        with a fresh EMA and optimiser."""
        self.net = net.train().requires_grad_(True)
        self.ema = copy.deepcopy(net).eval().requires_grad_(False)
        self.opt = torch.optim.AdamW(self.net.parameters(), lr=a.lr, weight_decay=a.wd)

    def state(self):
        return dict(net=self.net.state_dict(), ema=self.ema.state_dict(), opt=self.opt.state_dict(),
                    deploy=self.net.deploy,
                    int8=None if self.net.int8 is None else [None if m is None else m.cpu() for m in self.net.int8],
                    teacher=self.teacher.state_dict() if self.teacher and not self.external_teacher else None)

    def load(self, st, a):
        dev = next(self.net.parameters()).device
        quant = st.get("int8") is not None  # a --qat run's state: deploy form with its calibration
        deploy = st.get("deploy", quant)  # and a fine-tune of a .bmodel's weights (--init-bmodel)
        if quant and st.get("teacher") is None:
            raise SystemExit("the checkpoint's %s is quantised (--qat) but holds no teacher to distil from" % self.tier.name)
        if st.get("teacher") is not None and (quant or a.w_distill > 0):  # a distilled run's teacher, kept on resume
            self.teacher = nets.BeautyNet(self.tier, deploy=deploy).to(dev).eval().requires_grad_(False)
            self.teacher.load_state_dict(st["teacher"])
        if quant:
            self.to_int8(st["int8"], a, nets.BeautyNet(self.tier, deploy=True).to(dev), self.teacher)
        elif deploy:
            self.use_deploy_form(nets.BeautyNet(self.tier, deploy=True).to(dev), a)
        self.net.load_state_dict(st["net"])
        self.ema.load_state_dict(st["ema"])
        self.opt.load_state_dict(st["opt"])


@torch.no_grad()
def validate(net, vb_by_tier, tier):
    """Removal inside the blemish masks (RGB L1, 1 - output/input), the held-out family's removal, and on the
    clean photos (no blemishes) the drift |output - B| and mean offset (output - B) on clean skin, in /255; the
    chroma left in the masks (colour ghosts: output / input chroma error)."""
    res = {}
    for key, b in vb_by_tier[tier.name].items():
        layers = nets.layers(net(nets.to_net(b["x"])))
        if key == "video":  # validation clips' consecutive frames: flicker only (no clean target)
            res["flicker_video"] = flicker(net, layers, b)
            continue
        y = (b["x"] + b["skin"] * layers[0]).clamp(0, 1)
        if key == "clean":
            cs = losses.clean_skin(b["skin"], torch.zeros_like(b["bm"]))
            n = cs.sum().clamp(min=1)
            res["drift"] = float(((y - b["t"]).abs() * cs).sum() / n / 3 * 255)
            res["mean_offset"] = [round(float(v), 3) for v in (((y - b["t"]) * cs).sum((0, 2, 3)) / n * 255)]
            yt = (y + b["skin"] * layers[1]).clamp(0, 1)  # with the tone layer at full strength, vs its target
            res["tone_offset"] = [round(float(v), 3) for v in (((yt - b["tone"]) * cs).sum((0, 2, 3)) / n * 255)]
        else:
            m = b["bm"]
            e_in = float(((b["x"] - b["t"]).abs() * m).sum())
            e_out = float(((y - b["t"]).abs() * m).sum())
            res["removal_" + key] = round(1 - e_out / max(e_in, 1e-9), 4)
            c_in = float((losses.chroma(b["x"] - b["t"]).norm(dim=1, keepdim=True) * m).sum())
            c_out = float((losses.chroma(y - b["t"]).norm(dim=1, keepdim=True) * m).sum())
            res["chroma_left_" + key] = round(c_out / max(c_in, 1e-9), 4)
            # as scripts/eval measures them (before its frame-resolution spot step): pooled ΔE removal, a*b* left
            dl_in, dl_out = losses.lab(b["x"]) - losses.lab(b["t"]), losses.lab(y) - losses.lab(b["t"])
            de_in, de_out = (float((d.norm(dim=1, keepdim=True) * m).sum()) for d in (dl_in, dl_out))
            ab_in, ab_out = (float((d[:, 1:].norm(dim=1, keepdim=True) * m).sum()) for d in (dl_in, dl_out))
            res["de_removal_" + key] = round(1 - de_out / max(de_in, 1e-9), 4)
            res["ab_left_" + key] = round(ab_out / max(ab_in, 1e-9), 4)
        res["flicker_" + key] = flicker(net, layers, b)
    return res


def flicker(net, layers, b):
    """Flicker of the retouch layer (blemish + tone at the element's default) between a sample's two views (the
    face moved sub-pixel with new noise, or the next video frame): the share of the layer that changed beyond the
    move, on m2 (scripts/eval-temporal's measure, before the element's rounding and smoothing)."""
    l2 = nets.layers(net(nets.to_net(b["x2"])))
    r1 = synth.warp(layers[0] + losses.TEMP_TONE * layers[1], b["back"])
    r2 = l2[0] + losses.TEMP_TONE * l2[1]
    m = b["m2"]
    return round(float(((r2 - r1).abs() * m).sum() / ((r2.abs() * m).sum()).clamp(min=1e-9)), 4)


def val_batches(data, tiers, dev, seed=4242):
    """Fixed validation batches per tier: every validation face with the training families, with the held-out
    family alone, and clean (no blemishes)."""
    idx = torch.from_numpy(data["val"].nonzero()[0]).to(dev)
    out = {}
    for t in tiers:
        vb = {}
        for key, types in (("train_types", synth.TRAIN_TYPES), ("held_out", (synth.HELD_OUT,)), ("clean", ())):
            g = torch.Generator(device=dev).manual_seed(seed)
            vb[key] = synth.make_batch(data, idx, g, (t.height, t.width), strong=False, types=types, second_view=True)
        if "pairs" in data and data["pairs"]["val"].any():  # and the validation clips' consecutive frames
            pidx = torch.from_numpy(data["pairs"]["val"].nonzero()[0]).to(dev)
            g = torch.Generator(device=dev).manual_seed(seed)
            vb["video"] = synth.make_pair_batch(data["pairs"], pidx, g, (t.height, t.width), strong=False,
                                                blemish_share=0.0)  # the frames' clean bases, no synthetic blemishes
        out[t.name] = vb
    return out


def run(a, log=print):
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    g = torch.Generator(device=dev).manual_seed(a.seed)
    data = synth.load_faces(a.data, dev)
    train_idx = torch.from_numpy((~data["val"]).nonzero()[0]).to(dev)
    tiers = [arch.TIERS[t] for t in a.tiers.split(",")]
    if a.tiny:  # smoke test: the real graphs, run at a tiny input
        tiers = [arch.Tier(t.name, 32, 48, t.c1, t.c2, t.c3, t.c4, t.deep_blocks, t.layers) for t in tiers]
    log("train faces: %d, device %s, tiers %s" % (len(train_idx), dev, a.tiers))
    ckpt = os.path.join(a.out, "checkpoint.pt")
    st = torch.load(ckpt, map_location=dev) if a.resume and os.path.exists(ckpt) else None
    if a.w_distill is None:  # quantisation-aware fine-tuning (started now or resumed) distils by default
        quant = st is not None and any(s.get("int8") is not None for s in st["tiers"].values())
        a.w_distill = losses.W_DISTILL if a.qat or quant else 0.0
    resuming = st is not None
    if a.init_bmodel and (resuming or a.qat):
        raise SystemExit("--init-bmodel starts a fine-tune from step 0; --resume (and --qat) continue a checkpoint: "
                         "pass one or the other")
    if a.qat and not resuming:
        raise SystemExit("--qat fine-tunes a trained net: pass --resume with a checkpoint in --out (%s)" % a.out)
    if a.teacher and not a.w_distill > 0:
        raise SystemExit("--teacher needs --w-distill > 0 (the weight of its term)")
    if a.w_distill > 0 and not (resuming or a.init_bmodel or a.teacher):
        raise SystemExit("--w-distill fine-tunes a trained net: pass --resume with a checkpoint in --out (%s) or "
                         "--init-bmodel" % a.out)
    pair_idx = None
    if a.w_temp_video > 0:
        if "pairs" not in data or data["pairs"]["val"].all():
            raise SystemExit("--w-temp-video needs consecutive training-clip frames in %s (prepare_data.py "
                             "--video-pairs)" % a.data)
        pair_idx = torch.from_numpy((~data["pairs"]["val"]).nonzero()[0]).to(dev)
        log("consecutive-frame pairs: %d from training clips" % len(pair_idx))
    tr = {t.name: Trainer(t, a, dev) for t in tiers}
    if a.init_bmodel:
        start_from_bmodel(a, tr, dev, log)
    if a.teacher and not resuming:  # (a resumed run reads its files after loading the checkpoint)
        use_teacher_files(a, tr, dev, log)
    vbs = val_batches(data, tiers, dev)
    disc = None
    if a.w_disc > 0:
        sd = torch.load(a.segs, map_location=dev)
        disc = nets.BlemishSeg(sd["width"]).to(dev)
        disc.load_state_dict({n: v.float() if v.is_floating_point() else v for n, v in sd["disc"].items()})
        disc.eval().requires_grad_(False)
    os.makedirs(a.out, exist_ok=True)
    hist, evals, start, total = [], [], 0, a.steps
    qat_start = False
    if resuming:
        for k, t in tr.items():
            t.load(st["tiers"][k], a)
        hist, evals, start = st["hist"], st["evals"], st["step"]
        try:
            g.set_state(st["rng"].cpu())
        except RuntimeError:  # a CUDA generator's state on a CPU run or the reverse: same weights, new draws
            g.manual_seed(a.seed + start)
            log("the checkpoint's random state is another device's: synthesis draws from seed %d" % (a.seed + start))
        if a.qat and any(t.net.int8 is None for t in tr.values()):
            for t in tr.values():
                folded = t.ema.fold()
                t.to_int8(int8.calibrate(folded, data), a, folded)
            log("quantisation-aware fine-tuning from the EMA at step %d: deploy form, int8 calibration on %d crops; "
                "a new schedule of --steps from step 0" % (start, int8.BATCHES * int8.BATCH))
            hist, evals, start = [], [], 0
            st["total"] = 0
            qat_start = True
        if a.teacher:
            use_teacher_files(a, tr, dev, log)
        for t in tr.values():
            if a.w_distill > 0 and t.teacher is None:  # a float fine-tune anchored to the net it starts from
                t.teacher = copy.deepcopy(t.ema).eval().requires_grad_(False)
        # --steps sets the schedule's new length (the cosine stretches or shrinks around the step reached); 0 keeps it
        total = a.steps or st["total"]
        if total <= start:
            raise SystemExit("--steps %d: the checkpoint is already at step %d (pass more steps)" % (total, start))
        log("resumed at step %d of %d" % (start, total))
    t0 = time.time()
    step = start
    two_views = a.w_temp > 0 or a.w_distill_temp > 0  # a second view per sample (synth.make_batch)
    quarters = set()

    def evaluate(step):
        ev = {"step": step, "time_s": round(time.time() - t0, 1)}
        for name, t in tr.items():
            ev[name] = validate(t.ema, vbs, t.tier)
            if t.ema.int8 is not None:  # the same weights (on the int8 grid) in float, as the fp32/bf16 paths run them
                f = t.ema.fold()
                f.set_int8(None)
                ev[name + "-float"] = validate(f, vbs, t.tier)
        evals.append(ev)
        log("eval " + json.dumps(ev))

    def save(step):
        torch.save(dict(tiers={k: t.state() for k, t in tr.items()}, rng=g.get_state(), hist=hist, evals=evals,
                        step=step, total=total, args=vars(a)), ckpt)

    if qat_start:  # the trained net in int8 before fine-tuning: the reference the run is measured against
        evaluate(step)
    while True:
        if total and step >= total:
            break
        if a.time_limit and time.time() - t0 > a.time_limit:
            log("time limit: stopping at step %d of %d (--resume continues)" % (step, total))
            break
        rec = {"step": step}
        for name, t in tr.items():
            if not t.queue:  # synthesis is launch-bound on a GPU: draw several steps' batches at once
                idx = train_idx[torch.randint(len(train_idx), (a.batch * a.synth_chunk,), generator=g, device=dev)]
                t.queue = split_batch(synth.make_batch(data, idx, g, (t.tier.height, t.tier.width),
                                                       second_view=two_views, clean_share=a.clean_share,
                                                       types=a.types), a.batch)
            b = t.queue.pop()
            lr = cosine(step, total or 10 ** 9, a.lr, a.warmup)
            for pg in t.opt.param_groups:
                pg["lr"] = lr
            t.net.train()
            xn = nets.to_net(b["x"])
            raw = t.net(xn)
            out = nets.layers(raw)
            if two_views:  # the second view's forward pass, shared by the temporal terms
                xn2 = nets.to_net(b["x2"])
                raw2 = t.net(xn2)
            loss, parts, y = losses.beauty_loss(b["x"], out, b, w_blem=a.w_blem, w_chroma=a.w_chroma,
                                                w_mean=a.w_mean, w_mean_tone=a.w_mean_tone, blem_space=a.blem_space)
            if t.teacher is not None and (a.w_distill > 0 or a.w_distill_temp > 0):
                with torch.no_grad():
                    ref = t.teacher(xn)
                dl = losses.distill_loss(raw, ref)
                loss = loss + a.w_distill * dl
                parts["distill"] = dl.item()
                if a.w_distill_temp > 0:  # and how it changes under a move and new camera noise: the teacher's way
                    with torch.no_grad():
                        ref2 = t.teacher(xn2)
                    dt = losses.distill_loss(raw2 - raw, ref2 - ref)
                    loss = loss + a.w_distill_temp * dt
                    parts["distill_temp"] = dt.item()
            if a.w_temp > 0:
                tl = losses.temporal_loss(out, nets.layers(raw2), b)
                loss = loss + a.w_temp * tl
                parts["temp"] = tl.item()
            if pair_idx is not None and step >= a.video_from * (total or 10 ** 9):  # consecutive frames, one pass
                if not t.pair_queue:
                    pidx = pair_idx[torch.randint(len(pair_idx), (a.video_batch * a.synth_chunk,), generator=g,
                                                  device=dev)]
                    t.pair_queue = split_batch(synth.make_pair_batch(data["pairs"], pidx, g, (t.tier.height,
                                                                     t.tier.width), types=a.types,
                                                                     blemish_share=a.pair_blemish_share,
                                                                     raw=a.pair_raw), a.video_batch)
                pb = t.pair_queue.pop()
                rp = t.net(nets.to_net(torch.cat([pb["x"], pb["x2"]])))
                n = pb["x"].shape[0]
                tl = losses.temporal_loss(nets.layers(rp[:n]), nets.layers(rp[n:]), pb)
                loss = loss + a.w_temp_video * tl
                parts["temp_video"] = tl.item()
            if disc is not None:
                dl = losses.disc_loss(disc, y, b["skin"], b["bm"])
                loss = loss + a.w_disc * dl
                parts["disc"] = dl.item()
            t.opt.zero_grad(set_to_none=True)
            loss.backward()
            t.opt.step()
            t.update_ema(step)
            rec[name] = dict({k: round(v, 5) for k, v in parts.items()}, total=round(loss.item(), 5))
        step += 1
        rec["step"] = step
        if not total and step == start + 30:  # after cuDNN's autotuning and the allocator's warm-up
            t_probe = time.time()
        if not total and step == start + 30 + a.probe_steps:  # --steps 0: size the run from the measured speed
            per = (time.time() - t_probe) / a.probe_steps
            total = max(step + 1, int((a.budget_seconds - (time.time() - t0)) / per) + step)
            log("measured %.3f s/step: the run is %d steps (repeat with --steps %d)" % (per, total, total))
        if step % a.log_every == 0 or step == total:
            rec["time_s"] = round(time.time() - t0, 1)
            rec["lr"] = lr
            hist.append(rec)
            log(json.dumps(rec))
        q = int(4 * step / total) if total else 0
        if total and q > 0 and q not in quarters and step >= (q * total) // 4:
            quarters.add(q)
            evaluate(step)
            export(a, tr, hist, evals, step, total, log)
            save(step)
    if not evals or evals[-1]["step"] != step:
        evaluate(step)
    save(step)
    log("trained to step %d in %.0f s" % (step, time.time() - t0))
    return tr, hist, evals, step, total


def use_teacher_files(a, tr, dev, log):
    """--teacher: the one tier trained distils from these .bmodel files (their raw heads averaged, nets.Ensemble)
    instead of from the net it started from: a larger tier's, or several nets'. Read again on every resume."""
    if len(tr) != 1:
        raise SystemExit("--teacher distils into one tier: pass --tiers with one name")
    t = next(iter(tr.values()))
    try:
        teacher = nets.Ensemble([nets.load_bmodel(f, dev) for f in a.teacher.split(",")])
    except (OSError, ValueError) as e:
        raise SystemExit("--teacher %s: %s" % (a.teacher, e))
    if (teacher.tier.width, teacher.tier.height) != (t.tier.width, t.tier.height):
        raise SystemExit("--teacher %s: input %dx%d, tier %s's is %dx%d" % (
            a.teacher, teacher.tier.width, teacher.tier.height, t.tier.name, t.tier.width, t.tier.height))
    t.teacher, t.external_teacher = teacher.eval().requires_grad_(False), True
    log("distilling %s from %s (w %.3g)" % (t.tier.name, a.teacher, a.w_distill))


def start_from_bmodel(a, tr, dev, log):
    """--init-bmodel: the one tier trained starts from a .bmodel's weights in deploy form (the RepVGG branches and
    BN are folded in the file, so the train form cannot be rebuilt from it), e.g. a shipped net whose training
    state was not kept; with --w-distill that net is also the teacher."""
    if len(tr) != 1:
        raise SystemExit("--init-bmodel fine-tunes one tier: pass --tiers with one name")
    t = next(iter(tr.values()))
    try:
        src = nets.load_bmodel(a.init_bmodel, dev)
    except (OSError, ValueError) as e:
        raise SystemExit("--init-bmodel %s: %s" % (a.init_bmodel, e))
    if (src.tier.width, src.tier.height) != (t.tier.width, t.tier.height) or src.tier.layers != t.tier.layers:
        raise SystemExit("--init-bmodel %s: its graph (%s, %dx%d) is not tier %s's" % (
            a.init_bmodel, src.tier.name, src.tier.width, src.tier.height, t.tier.name))
    net = nets.BeautyNet(t.tier, deploy=True).to(dev)
    net.load_state_dict(src.state_dict())
    t.use_deploy_form(net, a)
    if a.w_distill > 0:
        t.teacher = copy.deepcopy(net).eval().requires_grad_(False)
    log("%s: fine-tuning %s's weights (deploy form) from step 0; its int8 calibration is not carried over (the "
        "exports are float files: rerun calibrate_int8.py on the one you ship)" % (t.tier.name, a.init_bmodel))


def split_batch(b, n):
    """A batch of k*n pairs as k batches of n (tensors split on the batch axis; other entries shared)."""
    k = b["x"].shape[0] // n
    return [{key: v[i * n:(i + 1) * n] if torch.is_tensor(v) and v.shape[0] == k * n else v for key, v in b.items()}
            for i in range(k)]


def export(a, tr, hist, evals, step, total, log=print):
    os.makedirs(a.out, exist_ok=True)
    res = {}
    for name, t in tr.items():
        # on the CPU: an int8 net's activation rounding would turn a GPU's choice of conv algorithm into differences
        net = copy.deepcopy(t.ema).cpu()
        if net.int8 is not None:
            net.set_int8(net.int8_maxima())  # its maxima onto the CPU too
        dep = net.fold()
        x = torch.rand(2, 3, net.tier.height, net.tier.width) * 2 - 1
        with torch.no_grad():
            diff = float((net(x) - dep(x)).abs().max())
        path = os.path.join(a.out, "beautify-%s.bmodel" % name.lower())
        net.export(path, name if not a.tiny else "test-" + name)
        res[name] = dict(fold_max_abs_diff=diff, bytes=os.path.getsize(path), step=step)
        log("%s: EMA weights at step %d, folded max|diff| %.2e, %s" % (name, step, diff, path))
    with open(os.path.join(a.out, "losses-%s.json" % "".join(tr)), "w") as f:
        json.dump(dict(args=vars(a), steps=total, export=res, history=hist, evals=evals), f)
    return res


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".devdata/faces.npz")
    p.add_argument("--out", default="out/train")
    p.add_argument("--tiers", default="S,M,L")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=20261201)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--synth-chunk", type=int, default=4, help="batches synthesised per call (same data, fewer launches)")
    p.add_argument("--w-blem", type=float, default=losses.W_BLEM, help="weight of the blemish-only pixel term (losses.py)")
    p.add_argument("--w-chroma", type=float, default=losses.W_CHROMA, help="weight of its chroma part, relative (losses.py)")
    p.add_argument("--w-mean", type=float, default=losses.W_MEAN, help="weight of the clean-skin mean-colour penalty "
                   "(losses.py)")
    p.add_argument("--w-mean-tone", type=float, default=losses.W_MEAN_TONE, help="weight of the same penalty on blemish + tone vs "
                   "the tone target (0: off; docs/training.md runs 21 and 29)")
    p.add_argument("--clean-share", type=float, default=synth.CLEAN_SHARE, help="share of training samples without "
                   "blemishes (synth.make_batch)")
    p.add_argument("--types", type=lambda v: tuple(v.split(",")), default=synth.TRAIN_TYPES,
                   help="blemish families drawn in training (synth.BLEMISH_TYPES; default synth.TRAIN_TYPES)")
    p.add_argument("--blem-space", choices=("rgb", "lab"), default=losses.BLEM_SPACE,
                   help="the blemish term's error: RGB + chroma, or the ΔE scripts/eval measures (losses.py)")
    p.add_argument("--w-temp", type=float, default=losses.W_TEMP, help="weight of the temporal-consistency term "
                   "(losses.temporal_loss; 0: off, one forward pass per step fewer)")
    p.add_argument("--w-temp-video", type=float, default=losses.W_TEMP_VIDEO, help="weight of the same term on "
                   "consecutive frames of the training clips (synth.make_pair_batch; needs prepare_data.py's pairs; "
                   "the shipped M's fine-tune: 60, docs/training.md run 28)")
    p.add_argument("--video-from", type=float, default=0.0, help="the video term only from this share of the "
                   "schedule on (its low-rate tail: at a high rate it drives a net to change nothing, run 33)")
    p.add_argument("--video-batch", type=int, default=16, help="consecutive-frame pairs per step (--w-temp-video)")
    p.add_argument("--pair-blemish-share", type=float, default=synth.PAIR_BLEMISH_SHARE, help="share of those pairs "
                   "with synthetic blemishes (the others are the clips' own skin, as scripts/eval-temporal sees it)")
    p.add_argument("--pair-raw", action="store_true", help="the pairs without synthetic blemishes are the raw frames, "
                   "their own blemishes kept (default: the frames' clean bases)")
    p.add_argument("--steps", type=int, default=12000,
                   help="length of the cosine schedule; 0: from --budget-seconds and the measured speed (with "
                   "--resume: the schedule's new length, 0 keeps the checkpoint's)")
    p.add_argument("--budget-seconds", type=float, default=480)
    p.add_argument("--time-limit", type=float, default=0, help="> 0: stop after this many seconds, evaluated, "
                   "exported and saved (the device's per-call limit)")
    p.add_argument("--probe-steps", type=int, default=60)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--lr", type=float, default=4e-3)
    p.add_argument("--wd", type=float, default=1e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--w-disc", type=float, default=0.0, help="> 0: frozen-segmenter loss (ablation; needs --segs)")
    p.add_argument("--segs", default="models/blemish_seg.pt")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--init-bmodel", metavar="F.bmodel", help="fine-tune one tier from this file's weights (deploy "
                   "form: start_from_bmodel), a new schedule of --steps from step 0; the exports carry no int8 "
                   "calibration (rerun calibrate_int8.py); continue such a run with --resume instead of this flag")
    p.add_argument("--qat", action="store_true", help="with --resume: quantisation-aware fine-tuning for the engine's "
                   "int8 path (Trainer.to_int8; use a small --lr, e.g. 3e-5); the export carries the calibration and "
                   "weights on its grid")
    p.add_argument("--w-distill", type=float, default=None, help="with --resume or --init-bmodel: weight of the distillation term "
                   "(losses.distill_loss: the output vs the net the distilled fine-tune started from, kept on resume; "
                   "default losses.W_DISTILL with --qat or a quantised checkpoint, else 0)")
    p.add_argument("--teacher", metavar="F.bmodel[,F.bmodel...]", help="with --w-distill: distil from these nets "
                   "(their raw heads averaged; another tier's or several, of the trained tier's input size) instead "
                   "of the net the fine-tune started from")
    p.add_argument("--w-distill-temp", type=float, default=losses.W_DISTILL_TEMP, help="with a teacher: weight of the same "
                   "term on how the output changes between the two views of a sample (flicker: docs/training.md)")
    p.add_argument("--tiny", action="store_true", help="smoke test: tiny inputs, tier names prefixed test-")
    p.add_argument("--tier-spec", action="append", default=[], metavar="NAME=W,H,C1,C2,C3,C4,DEEP",
                   help="an experimental tier (architecture studies, docs/training.md), usable in --tiers")
    return p


def main(argv=None):
    a = parser().parse_args(argv)
    for spec in a.tier_spec:
        t = arch.parse_tier(spec)
        arch.TIERS[t.name] = t
    tr, hist, evals, step, total = run(a)
    export(a, tr, hist, evals, step, total)


if __name__ == "__main__":
    main()
