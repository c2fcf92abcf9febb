"""Trains the beauty net tiers and the blemish segmenters in one run; exports .bmodel files.

Phase A (steps_a): every tier learns X -> retouch target with pixel/SSIM/gradient/texture losses; at the same time
two blemish segmenters learn the synthetic masks: `disc` (used in the loss) and `judge` (other seed, never used in
training: the eval's residual-blemish measure, so the net is not graded by the net it was trained to fool).
Phase B (steps_b): segmenters frozen; tiers fine-tuned with the discriminator loss added (all-zero target).
Step counts, not wall time, define the run, so a seed reproduces it (up to GPU kernel non-determinism).
"""
import argparse
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from beautynet import arch, losses, nets, synth  # noqa: E402


def cosine(step, total, lr0, warm=50):
    if step < warm:
        return lr0 * (step + 1) / warm
    return lr0 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))


def run(a, log=print, on_phase_a=None):
    torch.manual_seed(a.seed)
    dev = torch.device(a.device)
    g = torch.Generator(device=dev).manual_seed(a.seed)
    data = synth.load_faces(a.data, dev)
    train_idx = torch.from_numpy((~data["val"]).nonzero()[0]).to(dev)
    log("train faces: %d, device %s" % (len(train_idx), dev))
    tiers = [arch.TIERS[t] for t in a.tiers.split(",")]
    if a.tiny:  # smoke test: the real graphs, run at a tiny input
        tiers = [arch.Tier(t.name, 32, 48, t.c1, t.c2, t.c3, t.deep_blocks, t.layers) for t in tiers]
    bnets = {t.name: nets.BeautyNet(t).to(dev) for t in tiers}
    opts = {k: torch.optim.Adam(n.parameters(), lr=a.lr) for k, n in bnets.items()}
    segs = {"disc": nets.BlemishSeg(a.seg_width).to(dev)}
    torch.manual_seed(a.seed + 1000)
    segs["judge"] = nets.BlemishSeg(a.seg_width).to(dev)
    sopt = {k: torch.optim.Adam(s.parameters(), lr=a.lr) for k, s in segs.items()}
    if a.segs:  # segmenters from an earlier run (same blemish synthesis): frozen from the start
        sd = torch.load(a.segs, map_location=dev)
        for k, s in segs.items():
            s.load_state_dict({n: v.float() if v.is_floating_point() else v for n, v in sd[k].items()})
            s.eval()
            s.requires_grad_(False)
        log("segmenters loaded from %s, frozen" % a.segs)
    hist = []
    t0 = time.time()
    total = a.steps_a + a.steps_b

    def batch(hw):
        idx = train_idx[torch.randint(len(train_idx), (a.batch,), generator=g, device=dev)]
        return synth.make_batch(data, idx, g, hw)

    for step in range(total):
        phase_b = step >= a.steps_a
        rec = {"step": step}
        if phase_b and step == a.steps_a:
            if on_phase_a:  # a usable result even if the run is cut short in phase B
                on_phase_a(bnets, segs, hist)
                for n in bnets.values():
                    n.train()
            for s in segs.values():
                s.eval()
                s.requires_grad_(False)
            log("phase B: segmenters frozen at step %d (%.0f s)" % (step, time.time() - t0))
        for t in tiers:
            b = batch((t.height, t.width))
            net = bnets[t.name]
            lr = cosine(step, a.steps_a, a.lr) if not phase_b else a.lr_b * (1 - (step - a.steps_a) / a.steps_b)
            for pg in opts[t.name].param_groups:
                pg["lr"] = lr
            out = net(nets.to_net(b["x"]))
            y = nets.compose(b["x"], out, b["skin"])
            loss, parts = losses.beauty_loss(y, b["t"], b["bm"], b["skin"])
            if phase_b:
                d = losses.disc_loss(segs["disc"], y, b["skin"])
                loss = loss + a.w_disc * d
                parts["disc"] = d.item()
            opts[t.name].zero_grad(set_to_none=True)
            loss.backward()
            opts[t.name].step()
            rec[t.name] = dict(parts, total=loss.item())
            if not phase_b and not a.segs:  # segmenters see every tier's inputs (several face scales)
                for k, s in segs.items():
                    for pg in sopt[k].param_groups:
                        pg["lr"] = cosine(step, a.steps_a, a.lr)
                    sl = losses.seg_loss(s(b["x"]), b["bm"], b["skin"])
                    sopt[k].zero_grad(set_to_none=True)
                    sl.backward()
                    sopt[k].step()
                    rec[k] = sl.item()
        stop = a.max_seconds and time.time() - t0 > a.max_seconds and phase_b
        if step % a.log_every == 0 or step == total - 1 or stop:
            rec["time_s"] = round(time.time() - t0, 1)
            hist.append(rec)
            log(json.dumps(rec))
        if stop:
            log("wall-clock guard: stopped at step %d of %d" % (step + 1, total))
            break
    log("trained %d steps in %.0f s" % (step + 1, time.time() - t0))
    return bnets, segs, hist


def export(a, bnets, segs, hist, log=print):
    os.makedirs(a.out, exist_ok=True)
    res = {}
    tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False  # the fold check compares fp32 results, not TF32 ones
    for name, net in bnets.items():
        net.eval()
        dep = net.fold()
        x = torch.rand(2, 3, net.tier.height, net.tier.width, device=next(net.parameters()).device) * 2 - 1
        with torch.no_grad():
            diff = float((net(x) - dep(x)).abs().max())
        path = os.path.join(a.out, "beautify-%s.bmodel" % name.lower())
        tier_name = name if not a.tiny else "test-" + name
        net.export(path, tier_name)
        res[name] = dict(fold_max_abs_diff=diff, bytes=os.path.getsize(path))
        log("%s: folded max|diff| %.2e, %s (%d bytes)" % (name, diff, path, os.path.getsize(path)))
    torch.backends.cudnn.allow_tf32 = tf32
    torch.save({k: {n: v.half() if v.is_floating_point() else v for n, v in s.state_dict().items()}
                for k, s in segs.items()} | {"width": a.seg_width}, os.path.join(a.out, "blemish_seg.pt"))
    with open(os.path.join(a.out, "losses.json"), "w") as f:
        json.dump(dict(args=vars(a), export=res, history=hist), f)
    return res


def parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=".devdata/faces.npz")
    p.add_argument("--out", default="out/train")
    p.add_argument("--tiers", default="S,M,L")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps-a", type=int, default=3000)
    p.add_argument("--steps-b", type=int, default=800)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-b", type=float, default=4e-4)
    p.add_argument("--w-disc", type=float, default=0.02)
    p.add_argument("--seg-width", type=int, default=24)
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("--segs", help="frozen segmenters (blemish_seg.pt) from an earlier run: skip their training")
    p.add_argument("--max-seconds", type=float, default=0, help="stop phase B early past this wall time")
    p.add_argument("--tiny", action="store_true", help="smoke test: tiny inputs, tier names prefixed test-")
    return p


def main(argv=None):
    a = parser().parse_args(argv)
    bnets, segs, hist = run(a, on_phase_a=lambda b, s, h: export(a, b, s, h))
    export(a, bnets, segs, hist)


if __name__ == "__main__":
    main()
