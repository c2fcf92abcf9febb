#!/usr/bin/env python3
"""Soak test of the beautify element (outside CI: it takes minutes): a real clip, decoded once, is pushed through the
element again and again (timestamps keep rising, as one long stream) for --frames frames. Every --every frames it
logs the process's RSS and the frame rate since the last line; at the end it asserts that memory stayed flat:
after the warm-up (the first --warmup frames: models, pools, first detections), RSS may grow by at most --max-growth-mib
in total and the least-squares slope must stay under --max-slope-kib KiB per 1000 frames.

Exit status: 0 flat, 1 memory grew (or the element failed), 77 the clip is missing (skipped, with a message).
"""
import argparse
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import GObject, Gst, GstApp  # noqa: E402,F401  (after require_version)

DEFAULT_CLIP = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "faces", "videos",
                            "github-ageitgey-face_recognition", "short_hamilton_clip.mp4")
SKIP = 77  # meson's and automake's "skipped" status


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def decode(clip, fmt):
    """All frames of the clip as raw buffers of one format, and their caps."""
    pipe = Gst.parse_launch(f'filesrc name=src ! decodebin ! videoconvert ! video/x-raw,format={fmt} ! '
                            'appsink name=sink sync=false')
    pipe.get_by_name("src").set_property("location", clip)
    sink = pipe.get_by_name("sink")
    pipe.set_state(Gst.State.PLAYING)
    frames, caps = [], None
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        caps = sample.get_caps()
        frames.append(sample.get_buffer().copy_deep())
    msg = pipe.get_bus().pop_filtered(Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg:
        err, dbg = msg.parse_error()
        raise RuntimeError(f"{clip}: cannot decode: {err.message}")
    if not frames:
        raise RuntimeError(f"{clip}: no frames decoded")
    return frames, caps


def slope_kib_per_1000(points):
    """Least-squares slope of RSS (KiB) against frame number, per 1000 frames."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return 1000.0 * sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default=DEFAULT_CLIP, help="video file (default: the shared Hamilton clip)")
    ap.add_argument("--frames", type=int, default=20000, help="frames through the element (default 20000)")
    ap.add_argument("--every", type=int, default=500, help="log RSS and fps every N frames (default 500)")
    ap.add_argument("--warmup", type=int, default=2000, help="frames before the memory baseline (default 2000)")
    ap.add_argument("--max-growth-mib", type=float, default=16.0, help="RSS growth allowed after warm-up (16)")
    ap.add_argument("--max-slope-kib", type=float, default=64.0, help="KiB per 1000 frames allowed (64)")
    ap.add_argument("--format", default="I420", help="raw format pushed into the element (I420)")
    ap.add_argument("--set", action="append", default=[], metavar="PROP=VALUE", help="an element property")
    ap.add_argument("--log", help="also write the log lines to this file")
    a = ap.parse_args()
    for name, v, lo in (("--frames", a.frames, 1), ("--every", a.every, 1), ("--warmup", a.warmup, 0)):
        if v < lo:
            ap.error(f"{name} must be at least {lo}")
    if a.warmup + 2 * a.every > a.frames:
        ap.error("--frames must leave at least two log points after --warmup")
    if not os.path.isfile(a.clip):
        print(f"soak: skipped: the clip {a.clip} is missing (the shared test media are not here)")
        return SKIP

    Gst.init(None)
    if Gst.ElementFactory.find("beautify") is None:
        print("soak: the beautify element is not found (set GST_PLUGIN_PATH to the build's gst/ folder)",
              file=sys.stderr)
        return 1
    frames, caps = decode(a.clip, a.format)
    info = caps.get_structure(0)
    rate = info.get_fraction("framerate")
    num, den = (rate[1], rate[2]) if rate[0] and rate[1] > 0 else (25, 1)
    log_file = open(a.log, "w") if a.log else None

    def log(line):
        print(line, flush=True)
        if log_file:
            log_file.write(line + "\n")
            log_file.flush()

    pipe = Gst.parse_launch("appsrc name=src format=time is-live=false block=true max-buffers=4 ! "
                            "beautify name=b ! fakesink name=sink sync=false")
    src, element = pipe.get_by_name("src"), pipe.get_by_name("b")
    src.set_property("caps", caps)
    # Every frame retouched, as in a file job: detection inline when a frame has none (the boolean property of
    # before, or the enum's "always"), and the element's per-frame messages to count the faces.
    sync = element.find_property("synchronous-detection")
    if sync is not None:
        Gst.util_set_object_arg(element, "synchronous-detection",
                                "true" if sync.value_type == GObject.TYPE_BOOLEAN else "always")
    element.set_property("post-messages", True)
    for kv in a.set:
        k, _, v = kv.partition("=")
        if element.find_property(k) is None:
            ap.error(f"--set {kv}: beautify has no property '{k}'")
        Gst.util_set_object_arg(element, k, v)

    def shown(v):
        return v.value_nick if hasattr(v, "value_nick") else v

    props = {p.name: shown(element.get_property(p.name)) for p in element.list_properties()
             if p.flags & GObject.ParamFlags.READABLE and p.name not in ("name", "parent")}
    log(f"soak: {a.clip}: {len(frames)} frames {info.get_value('width')}x{info.get_value('height')} {a.format} "
        f"at {num}/{den} fps, looped to {a.frames} frames; load {os.getloadavg()[0]:.2f}; element {props}")
    pipe.set_state(Gst.State.PLAYING)
    bus = pipe.get_bus()
    frame_ns = Gst.SECOND * den // num
    points, t_last, n_last = [], time.monotonic(), 0
    faces = with_faces = 0  # since the last log line
    t0 = t_last
    failed = None
    for n in range(a.frames):
        buf = frames[n % len(frames)].copy_deep()
        buf.pts = n * frame_ns
        buf.duration = frame_ns
        if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
            failed = "appsrc refused a buffer (the element stopped the stream)"
            break
        while (msg := bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.ELEMENT)) is not None:
            if msg.type == Gst.MessageType.ERROR:
                failed = msg.parse_error()[0].message
                break
            st = msg.get_structure()
            if st is not None and st.get_name() == "beautify":
                faces += st.get_value("n-faces")
                with_faces += st.get_value("n-faces") > 0
        if failed:
            break
        if (n + 1) % a.every == 0:
            now = time.monotonic()
            rss = rss_kib()
            fps = (n + 1 - n_last) / (now - t_last)
            t_last, n_last = now, n + 1
            if n + 1 > a.warmup:
                points.append((n + 1, rss))
            log(f"frame {n + 1:6d}  rss {rss / 1024:8.1f} MiB  fps {fps:7.1f}  frames with faces {with_faces:4d}  "
                f"faces/frame {faces / a.every:.2f}  load {os.getloadavg()[0]:.2f}")
            faces = with_faces = 0
    src.emit("end-of-stream")
    msg = bus.timed_pop_filtered(120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if failed is None and (msg is None or msg.type == Gst.MessageType.ERROR):
        failed = msg.parse_error()[0].message if msg else "no EOS within 120 s"
    if failed:
        log(f"soak: FAILED: {failed}")
        return 1
    total_s = time.monotonic() - t0
    growth = (points[-1][1] - points[0][1]) / 1024.0
    slope = slope_kib_per_1000(points)
    ok = growth <= a.max_growth_mib and slope <= a.max_slope_kib
    log(f"soak: {a.frames} frames in {total_s:.0f} s ({a.frames / total_s:.1f} fps); RSS after warm-up "
        f"{points[0][1] / 1024:.1f} -> {points[-1][1] / 1024:.1f} MiB (growth {growth:+.1f} MiB, limit "
        f"{a.max_growth_mib}), slope {slope:+.1f} KiB/1000 frames (limit {a.max_slope_kib}): "
        f"{'flat' if ok else 'MEMORY GREW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
