"""Temporal stability (flicker) of the `beautify` element on real clips (issue 12; entry point: scripts/eval-temporal).

What it measures. Every clip's first N frames are decoded (OpenCV/FFmpeg: this machine's
GStreamer has no H.264 decoder) and pushed one by one through `appsrc ! beautify synchronous-detection=always strength=1
! appsink` as RGB; each output frame is paired with the input frame we kept. The retouch layer is
R_t = output_t - input_t, per pixel and RGB channel, as float. A retouch that sticks to the skin should move with the
face and otherwise stay the same, so for each consecutive pair (t, t+1):

    flicker_t = sum_M |R_{t+1} - warp(R_t)| / sum_M |R_{t+1}|

where warp(R_t) carries R_t into frame t+1 along the *input's* optical flow (Farneback on the input luma, backward
flow t+1 -> t, cv2.remap, bilinear), and M is the retouched region (|R_{t+1}| or |warp(R_t)| non-zero in some channel)
restricted to pixels whose flow is reliable (forward-backward consistency < --fb-max px, source and target more than
--border px from the frame edge). It is the share of the layer that changes from one frame to the next beyond what the
face's own motion explains: 0 = the layer is glued to the skin, 1 = as much change as there is layer.

Why this way. The flow comes from the input, not the output, so the retouch cannot hide its own flicker by moving the
flow; the numbers are relative to the layer's own magnitude, so a weak retouch does not look stable just because it is
small (mean |R| is reported beside it); the consistency check drops occlusions, mouth and eye motion the flow gets
wrong, which would otherwise be blamed on the element. The ratio has the opposite blind spot: a large steady layer
(a uniform lift of clean skin) dilutes the change of the local corrections on top of it. So the same change is also
reported in absolute terms, "change_abs": sum_M |R_{t+1} - warp(R_t)| over RGB per pixel of the whole frame, in code
values (the table shows it x 1000), which two models compare on the same clip whatever the size of their layers.

The quantisation floor. The blend writes whole code values: on RGB frames (what this script feeds) each channel is
in + delta rounded to nearest (gst/blend/blend.h; until the fourth session of 2 Dec a fixed 4x4 ordered dither, whose
pattern, tied to frame positions, did not move with the face and was most of the measured flicker). A rounded layer
is still a pattern of whole steps: where the continuous delta sits near a half code value, a sub-pixel move or a
little noise flips pixels between two steps. Two numbers say how much of the flicker is quantisation:
- "box3": the same metric with R_t and R_{t+1} pre-smoothed by a 3x3 box;
- "floor": a simulation of a perfectly stable layer: C = box3(R_t) is taken as the continuous layer, moved exactly
  with the flow (C' = warp(C)), both quantised as the element does on the real input frames
  (Q = clamp(round(in + C)) - in), and measured with the same metric. Flicker at or below this is quantisation's,
  not the net's or the tracker's. "box3 floor" is the same simulation measured on box3-smoothed layers.
- "flow floor": the same continuous layer glued to the skin by construction: frame t and C are moved together by a
  known translation (the pair's median flow) onto a synthetic frame t+1, both quantised, and measured through a
  flow *estimated* from the two frames as above. The "floor" moves C with the very flow it is measured with, so it
  cannot see the flow's own error on smooth skin; this one does (optimistic still: the synthetic frame has no new
  sensor noise and no non-rigid motion).

Pairs where R_t or R_{t+1} is all zero (no face retouched) are skipped and counted; so are pairs whose reliable
retouched region has fewer than --min-pixels pixels. The JSON also has, per pair and per clip, the flicker on the
region's interior (>= 8 px from its edge, so a mask edge that moves is left out), the box3 flicker after the best
single gain (so a global fade of the layer is left out), and the box3 flicker at the best extra offset of the layer
within +-6 px ("slid", with that offset): they say whether the change is at the mask's edge, a fade, the layer sliding
over the skin (the tracker's lag or jitter), or the net's output itself. Writes out/eval/temporal.json (per clip and
per pair) and prints a Markdown table.
"""
import argparse
import glob
import json
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

ELEMENT_PROPS = {}  # the element's properties as the first clip ran with them
CROP_MARGIN = 64  # px around the retouched area that the flow is computed on
SLIDE_MAX = 6.0  # px: the largest extra offset of the layer searched for (diagnostic "slide")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", default=os.path.join(ROOT, "..", "shared", "data", "faces", "videos"),
                    help="folder of clips (every *.mp4 under it, recursively)")
    ap.add_argument("--frames", type=int, default=90, help="first N frames per clip")
    ap.add_argument("--model", help="a .bmodel file (overrides --tier)")
    ap.add_argument("--tier", default="auto", choices=["auto", "s", "m", "l"])
    ap.add_argument("--strength", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=1, help="threads of the net (the element's `threads`)")
    ap.add_argument("--set", action="append", default=[], metavar="PROP=VALUE",
                    help="another property of the element, e.g. --set temporal-smoothing=0 (repeatable)")
    ap.add_argument("--fb-max", type=float, default=1.0, help="forward-backward flow consistency limit, px")
    ap.add_argument("--border", type=int, default=8, help="pixels at the frame edge left out")
    ap.add_argument("--min-pixels", type=int, default=200, help="fewest reliable retouched pixels for a pair to count")
    ap.add_argument("--only", help="substring: only clips whose path contains it")
    ap.add_argument("--dump", help="clip path substring:frame index t — write |R_t|, |R_t+1|, |warp R_t|, "
                    "|diff| (x8) as PNGs of that pair into out/eval/temporal-dump/ (never commit them)")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "eval", "temporal.json"))
    return ap.parse_args()


# ---------------------------------------------------------------------------------------------------------------------
# frames from GStreamer

def init_gst(log_path):
    os.environ.setdefault("GST_DEBUG", "beautify:4")
    os.environ["GST_DEBUG_FILE"] = log_path
    os.environ.setdefault("GST_PLUGIN_PATH", os.path.join(ROOT, "build", "gst"))
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstVideo", "1.0")
    from gi.repository import Gst, GstVideo
    Gst.init(None)
    if Gst.ElementFactory.find("beautify") is None:
        sys.exit("flicker.py: the beautify element is not found (GST_PLUGIN_PATH=%s)" % os.environ["GST_PLUGIN_PATH"])
    return Gst, GstVideo


def plugin_fingerprint():
    """sha256 (first 12) and mtime of the beautify plugin that GST_PLUGIN_PATH points at."""
    import hashlib
    for d in os.environ.get("GST_PLUGIN_PATH", "").split(":"):
        f = os.path.join(d, "libgstbeautify.so")
        if os.path.isfile(f):
            with open(f, "rb") as fh:
                sha = hashlib.sha256(fh.read()).hexdigest()[:12]
            built = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(os.path.getmtime(f)))
            return "%s sha256 %s, %s" % (f, sha, built)
    return None


def decode(clip, n):
    """The first n frames of a clip as RGB (OpenCV's FFmpeg backend: this machine's GStreamer has no H.264 decoder),
    and the frame rate."""
    import cv2
    cap = cv2.VideoCapture(clip)
    if not cap.isOpened():
        raise RuntimeError("cannot open")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while len(frames) < n:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, fps


def frame_pairs(Gst, GstVideo, clip, args):
    """Yields (input RGB, output RGB) for the first args.frames frames: appsrc ! beautify ! appsink, one frame in and
    its frame out before the next goes in (the element holds none). The input is our own copy, so the element working
    in place cannot touch it."""
    frames, fps = decode(clip, args.frames)
    if not frames:
        raise RuntimeError("no frames decoded")
    h, w = frames[0].shape[:2]
    num, den = Gst.util_double_to_fraction(fps)
    stride = (w * 3 + 3) & ~3  # GStreamer's default RGB stride
    props = "synchronous-detection=always strength=%g threads=%d" % (args.strength, args.threads)
    props += (" model=\"%s\"" % args.model) if args.model else (" tier=%s" % args.tier)
    props += "".join(" %s" % kv for kv in args.set)
    desc = ("appsrc name=src format=time is-live=false caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=%d/%d "
            "! beautify name=bf %s ! appsink name=b sync=false" % (w, h, num, den, props))
    pipe = Gst.parse_launch(desc)
    src, sink = pipe.get_by_name("src"), pipe.get_by_name("b")
    bus = pipe.get_bus()

    def error(default):
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        return RuntimeError(msg.parse_error()[0].message if msg else default)

    if pipe.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        e = error("state change failed")
        pipe.set_state(Gst.State.NULL)
        raise e
    if not ELEMENT_PROPS:  # what the element ran with (its defaults move; the JSON records them)
        bf = pipe.get_by_name("bf")
        for ps in bf.list_properties():
            if ps.name not in ("name", "parent") and ps.flags & 1:  # readable
                v = bf.get_property(ps.name)
                if hasattr(v, "value_nick"):  # an enum
                    v = v.value_nick
                ELEMENT_PROPS[ps.name] = v if isinstance(v, (bool, int, float, str, type(None))) else str(v)
    dur = Gst.util_uint64_scale_int(Gst.SECOND, den, num)
    try:
        for i, f in enumerate(frames):
            padded = np.zeros((h, stride), np.uint8)
            padded[:, :w * 3] = f.reshape(h, w * 3)
            buf = Gst.Buffer.new_wrapped(padded.tobytes())
            buf.pts, buf.duration = i * dur, dur
            if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                raise error("push-buffer failed")
            s = sink.emit("try-pull-sample", 30 * Gst.SECOND)
            if s is None:
                raise error("no output frame")
            ob = s.get_buffer()
            assert ob.pts == i * dur, "input/output frames out of step"
            data = np.frombuffer(ob.extract_dup(0, ob.get_size()), np.uint8)
            out = data[:stride * h].reshape(h, stride)[:, :w * 3].reshape(h, w, 3).copy()
            yield f, out
    finally:
        pipe.set_state(Gst.State.NULL)


# ---------------------------------------------------------------------------------------------------------------------
# the metric

def luma(rgb):
    import cv2
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def flow(g0, g1):
    """Dense flow from g0 to g1: g0[p] ~ g1[p + flow[p]]."""
    import cv2
    return cv2.calcOpticalFlowFarneback(g0, g1, None, pyr_scale=0.5, levels=4, winsize=15, iterations=3, poly_n=5,
                                        poly_sigma=1.2, flags=0)


def remap(img, mx, my):
    import cv2
    return cv2.remap(img, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def box3(r):
    import cv2
    return cv2.blur(r, (3, 3), borderType=cv2.BORDER_REPLICATE)


def quantise(inp, c):
    """The element's RGB blend of a continuous delta c onto inp, as a layer: clamp(floor(in + c + 1/2)) - in."""
    x = inp.astype(np.float32)
    return np.clip(np.floor(x + c + 0.5), 0, 255) - x


def ratio(r1, r0w, m):
    num = np.abs(r1 - r0w).sum(axis=2)[m].sum()
    den = np.abs(r1).sum(axis=2)[m].sum()
    return float(num / den) if den > 0 else None


def flow_floor(in0, c0, ff, m):
    """Flicker of a layer c0 stuck to the skin exactly: frame and layer moved by the median of the forward flow ff
    over m (a translation), quantised, measured through a flow estimated from the two frames."""
    import cv2
    h, w = in0.shape[:2]
    a = np.float32([[1, 0, np.median(ff[..., 0][m])], [0, 1, np.median(ff[..., 1][m])]])
    move = lambda img: cv2.warpAffine(img, a, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # noqa: E731
    in1 = np.clip(np.round(move(in0.astype(np.float32))), 0, 255).astype(np.uint8)
    q0, q1 = quantise(in0, c0), quantise(in1, move(c0))
    fb = flow(luma(in1), luma(in0))
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return ratio(q1, remap(q0, gx + fb[..., 0], gy + fb[..., 1]), m)


def pair_metrics(in0, out0, in1, out1, args, dump=None):
    # everything on a crop: the bounding box of both frames' retouch, grown by CROP_MARGIN (motion between two frames
    # stays well below it; a source position that leaves the crop counts as unreliable)
    H, W = in0.shape[:2]
    nz = np.any(out0 != in0, axis=2) | np.any(out1 != in1, axis=2)
    ys, xs = np.nonzero(nz)
    y0, y1 = max(ys.min() - CROP_MARGIN, 0), min(ys.max() + 1 + CROP_MARGIN, H)
    x0, x1 = max(xs.min() - CROP_MARGIN, 0), min(xs.max() + 1 + CROP_MARGIN, W)
    in0, out0, in1, out1 = (a[y0:y1, x0:x1] for a in (in0, out0, in1, out1))
    r0 = out0.astype(np.float32) - in0.astype(np.float32)
    r1 = out1.astype(np.float32) - in1.astype(np.float32)
    g0, g1 = luma(in0), luma(in1)
    h, w = g0.shape
    fb = flow(g1, g0)  # backward: pixel p of t+1 came from p + fb[p] in t
    ff = flow(g0, g1)
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = gx + fb[..., 0], gy + fb[..., 1]
    # consistency: going back to t and forward again should land on p
    ffw = remap(ff, mx, my)
    err = np.hypot(fb[..., 0] + ffw[..., 0], fb[..., 1] + ffw[..., 1])
    b = args.border
    fx, fy, fmx, fmy = gx + x0, gy + y0, mx + x0, my + y0  # frame coordinates
    inside = (fx >= b) & (fx < W - b) & (fy >= b) & (fy < H - b) & \
             (fmx >= b) & (fmx <= W - 1 - b) & (fmy >= b) & (fmy <= H - 1 - b) & \
             (mx >= 2) & (mx <= w - 3) & (my >= 2) & (my <= h - 3)
    reliable = inside & (err < args.fb_max)
    r0w = remap(r0, mx, my)
    region = (np.abs(r1).max(axis=2) > 0) | (np.abs(r0w).max(axis=2) > 0)
    m = region & reliable
    res = dict(region_px=int(region.sum()), reliable_px=int(m.sum()),
               reliable_share=float(m.sum() / max(region.sum(), 1)))
    if m.sum() < args.min_pixels:
        return res
    res["flicker"] = ratio(r1, r0w, m)
    res["mean_abs_r"] = float(np.abs(r1)[m].mean())
    # the same change in absolute terms, per pixel of the whole frame: what two models compare on the same clip
    # whatever the size of their layers (the ratio above rewards a large steady layer, e.g. a uniform lift)
    res["change_abs"] = float(np.abs(r1 - r0w).sum(axis=2)[m].sum() / (H * W))
    s0, s1 = box3(r0), box3(r1)
    s0w = remap(s0, mx, my)
    res["flicker_box3"] = ratio(s1, s0w, m)
    res["mean_abs_r_box3"] = float(np.abs(s1)[m].mean())
    # where it comes from: the interior of the retouched area (>= 8 px from its edge: mask-edge motion left out; the
    # area closed first, as a layer of < 1 code value is zero on many pixels after rounding), and the smoothed
    # layer after the best single gain a (box3 R_{t+1} vs a * warp(box3 R_t): a global fade or strength change left
    # out; fitted on the smoothed layers, as quantisation noise in warp(R_t) would bias a least-squares gain toward 0)
    import cv2
    area = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    interior = cv2.erode(area, np.ones((17, 17), np.uint8)).astype(bool) & reliable
    if interior.sum() >= args.min_pixels:
        res["flicker_interior"] = ratio(r1, r0w, interior)
        res["flicker_box3_interior"] = ratio(s1, s0w, interior)
    a = float((s1 * s0w)[m].sum() / max((s0w * s0w)[m].sum(), 1e-9))
    res["gain"] = a
    res["flicker_box3_gain"] = ratio(s1, a * s0w, m)
    # slide: the best single offset (on top of the flow, within +-SLIDE_MAX px) of the smoothed layer; the flicker
    # left at that offset is change of the layer's content, the rest is the layer sliding over the skin (tracking lag
    # or jitter of the net area and mask)
    # only M's pixels, remapped as a 1024-wide image (zero padding past the end: no contribution)
    n = int(m.sum())
    rows = (n + 1023) // 1024
    pad = lambda v, k: np.concatenate([v, np.zeros((rows * 1024 - n,) + v.shape[1:], v.dtype)]).reshape(
        (rows, 1024) + v.shape[1:])
    s1m, mxm, mym = pad(s1[m], 0), pad(mx[m], 0), pad(my[m], 0)
    valid = pad(np.ones(n, np.float32), 0)[..., None]
    den = np.abs(s1m).sum()

    def slid(dx, dy):
        return float((np.abs(s1m - remap(s0, mxm - dx, mym - dy)) * valid).sum() / den)

    best = (slid(0.0, 0.0), 0.0, 0.0)
    for step, rng in ((2.0, SLIDE_MAX), (1.0, 1.0), (0.5, 0.5), (0.25, 0.25)):
        cx, cy = best[1], best[2]
        for dy in np.arange(-rng, rng + 1e-6, step):
            for dx in np.arange(-rng, rng + 1e-6, step):
                if (dx or dy) and abs(cx + dx) <= SLIDE_MAX and abs(cy + dy) <= SLIDE_MAX:
                    f = slid(cx + dx, cy + dy)
                    if f < best[0]:
                        best = (f, cx + dx, cy + dy)
    res["flicker_box3_slid"], res["slide_x"], res["slide_y"] = best[0], float(best[1]), float(best[2])
    # floor: a continuous layer (box3 of R_t) that moves exactly with the flow, quantised in both frames
    q0 = quantise(in0, s0)
    q1 = quantise(in1, s0w)
    q0w = remap(q0, mx, my)
    res["flicker_floor"] = ratio(q1, q0w, m)
    res["flicker_box3_floor"] = ratio(box3(q1), box3(q0w), m)  # what of the quantisation the 3x3 box keeps
    res["flicker_flow_floor"] = flow_floor(in0, s0, ff, m)
    if dump:
        import cv2
        os.makedirs(dump, exist_ok=True)
        vis = lambda r: cv2.cvtColor(np.clip(np.abs(r) * 8, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
        cv2.imwrite(os.path.join(dump, "r_t.png"), vis(r0))
        cv2.imwrite(os.path.join(dump, "r_t1.png"), vis(r1))
        cv2.imwrite(os.path.join(dump, "warp_r_t.png"), vis(r0w))
        cv2.imwrite(os.path.join(dump, "diff.png"), vis((r1 - r0w) * m[..., None]))
        cv2.imwrite(os.path.join(dump, "diff_box3.png"), vis((s1 - s0w) * m[..., None]))
        cv2.imwrite(os.path.join(dump, "mask.png"), (m * 255).astype(np.uint8))
        cv2.imwrite(os.path.join(dump, "in_t1.png"), cv2.cvtColor(in1, cv2.COLOR_RGB2BGR))
    return res


# ---------------------------------------------------------------------------------------------------------------------

def summarize(vals):
    v = [x for x in vals if x is not None]
    if not v:
        return None, None
    return float(np.mean(v)), float(np.median(v))


def main():
    args = parse_args()
    if not os.path.isdir(args.clips):
        print("flicker.py: %s not found (the clips are not part of the project); nothing to measure" % args.clips)
        sys.exit(77)
    clips = sorted(glob.glob(os.path.join(args.clips, "**", "*.mp4"), recursive=True))
    if args.only:
        clips = [c for c in clips if args.only in c]
    if not clips:
        print("flicker.py: no *.mp4 under %s" % args.clips)
        sys.exit(77)
    if args.model:
        args.model = os.path.abspath(args.model)
    logf = tempfile.NamedTemporaryFile(prefix="flicker-gst-", suffix=".log", delete=False)
    logf.close()
    Gst, GstVideo = init_gst(logf.name)
    dump_clip, dump_t = (args.dump.rsplit(":", 1) + ["10"])[:2] if args.dump else (None, None)

    results, any_nonzero, started = [], False, time.time()
    plugin_before = plugin_fingerprint()
    for clip in clips:
        name = os.path.relpath(clip, args.clips)
        t0 = time.time()
        prev, pairs, n_frames, no_face, few_px = None, [], 0, 0, 0
        try:
            for i, (fin, fout) in enumerate(frame_pairs(Gst, GstVideo, clip, args)):
                n_frames += 1
                nz = bool(np.any(fin != fout))
                any_nonzero |= nz
                if prev is not None:
                    pin, pout, pnz = prev
                    if not (pnz and nz):
                        no_face += 1
                    else:
                        dump = None
                        if dump_clip and dump_clip in clip and i - 1 == int(dump_t):
                            dump = os.path.join(ROOT, "out", "eval", "temporal-dump")
                        m = pair_metrics(pin, pout, fin, fout, args, dump)
                        m["t"] = i - 1
                        if "flicker" not in m:
                            few_px += 1
                        pairs.append(m)
                prev = (fin, fout, nz)
        except RuntimeError as e:
            print("%s: %s" % (name, e), file=sys.stderr)
            results.append(dict(clip=name, error=str(e)))
            continue
        ok = [p for p in pairs if "flicker" in p]
        row = dict(clip=name, frames=n_frames, pairs=max(n_frames - 1, 0), used=len(ok), skipped_no_face=no_face,
                   skipped_few_pixels=few_px, size="%dx%d" % (prev[0].shape[1], prev[0].shape[0]) if prev else "")
        for k in ("flicker", "flicker_box3", "flicker_floor", "flicker_interior", "flicker_box3_interior",
                  "flicker_box3_gain", "flicker_box3_slid", "flicker_box3_floor", "flicker_flow_floor"):
            row[k + "_mean"], row[k + "_median"] = summarize([p.get(k) for p in ok])
        row["mean_abs_r"] = summarize([p.get("mean_abs_r") for p in ok])[0]
        row["change_abs_mean"] = summarize([p.get("change_abs") for p in ok])[0]
        row["mean_abs_r_box3"] = summarize([p.get("mean_abs_r_box3") for p in ok])[0]
        row["slide_px_mean"] = summarize([float(np.hypot(p["slide_x"], p["slide_y"])) for p in ok])[0]
        row["reliable_share"] = summarize([p.get("reliable_share") for p in ok])[0]
        row["seconds"] = round(time.time() - t0, 1)
        row["per_pair"] = pairs
        results.append(row)
        print("%-60s %s" % (name, " ".join("%s=%s" % (k, ("%.3f" % v) if isinstance(v, float) else v)
                                          for k, v in row.items() if k not in ("clip", "per_pair"))), flush=True)

    with open(logf.name, errors="replace") as f:
        model_lines = [l.strip() for l in f if "model " in l and "threads" in l]
    os.unlink(logf.name)
    model_info = model_lines[0].split("model ", 1)[-1] if model_lines else None  # the first start's pick
    model_file = model_info.split(" (", 1)[0] if model_info else args.model
    model_sha = model_version = None
    if model_file and os.path.isfile(model_file):
        import hashlib
        with open(model_file, "rb") as f:
            blob = f.read()
        model_sha, model_version = hashlib.sha256(blob).hexdigest(), int.from_bytes(blob[8:12], "little")
        if os.path.getmtime(model_file) > started:
            print("flicker.py: WARNING: %s changed during the run; the numbers may mix two models" % model_file,
                  file=sys.stderr)
    plugin, plugin_at_end = plugin_before, plugin_fingerprint()  # GStreamer keeps the build it loaded at the start
    if plugin_at_end != plugin:
        print("flicker.py: note: the plugin file was rebuilt during the run (now %s); this process kept the build it "
              "loaded at the start" % plugin_at_end, file=sys.stderr)
    if not any_nonzero:
        sys.exit("flicker.py: R is zero on every frame of every clip — the element retouched nothing (or the "
                 "output is the input's own buffer): no measurement")

    fmt = lambda v, p=False: "—" if v is None else ("%.1f %%" % (100 * v) if p else "%.2f" % v)
    print()
    print("model: %s; format v%s, sha256 %s; strength %g; first %d frames; threads %d" % (
        model_info, model_version, model_sha and model_sha[:12], args.strength, args.frames, args.threads))
    print("plugin: %s" % plugin)
    print("element: %s" % ", ".join("%s=%s" % kv for kv in sorted(ELEMENT_PROPS.items())))
    print()
    print("| clip | size | pairs used / skipped (no face, few px) | flicker mean / median | mean abs R | "
          "change per frame px ×1000 | box3 flicker mean / median | box3 mean abs R | "
          "quantisation floor mean / median | flow floor mean / median | reliable share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print("| %s | error: %s |||||||||" % (r["clip"], r["error"]))
            continue
        print("| %s | %s | %d / %d, %d | %s / %s | %s | %s | %s / %s | %s | %s / %s | %s / %s | %s |" % (
            r["clip"], r["size"], r["used"], r["skipped_no_face"], r["skipped_few_pixels"],
            fmt(r["flicker_mean"], 1), fmt(r["flicker_median"], 1), fmt(r["mean_abs_r"]),
            fmt(None if r["change_abs_mean"] is None else 1000 * r["change_abs_mean"]),
            fmt(r["flicker_box3_mean"], 1), fmt(r["flicker_box3_median"], 1), fmt(r["mean_abs_r_box3"]),
            fmt(r["flicker_floor_mean"], 1), fmt(r["flicker_floor_median"], 1), fmt(r["flicker_flow_floor_mean"], 1),
            fmt(r["flicker_flow_floor_median"], 1), fmt(r["reliable_share"], 1)))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(dict(model=model_info, model_sha256=model_sha, model_format_version=model_version,
                       model_arg=args.model, plugin=plugin, plugin_at_end=plugin_at_end,
                       element_properties=ELEMENT_PROPS, set=args.set,
                       tier=None if args.model else args.tier,
                       strength=args.strength, frames=args.frames, threads=args.threads, fb_max=args.fb_max,
                       border=args.border, min_pixels=args.min_pixels, clips=results), f, indent=1)
    print("\nwrote", os.path.relpath(args.out))


if __name__ == "__main__":
    main()
