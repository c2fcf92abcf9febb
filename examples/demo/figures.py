#!/usr/bin/python3
"""The README's before/after figures, from the real element (run by scripts/figures).

  figures.py OUT_DIR   -> OUT_DIR/before-after.png        synthetic blemishes (models/beautynet/synth.py) drawn on
                                                          the public-domain official Obama portrait, before | after
                          OUT_DIR/before-after-real.png   the portrait as it is: before | after | |after - before| x 8

Both crops show one cheek and the nose at 1:1, or enlarged (nearest neighbour) to ~440 px when the face is small.
The element runs as `beautify strength=1.0 tier=m` (blemish and tone at their defaults) on RGB frames, through
GStreamer (PyGObject); GST_PLUGIN_PATH must point at the built plugin. Landmarks and the skin mask the blemishes are
drawn on come from the project's face-tool (build/face/face-tool, or $BEAUTIFY_BUILD/face/face-tool).

Source: ../shared/data/faces/images/github-ageitgey-face_recognition/examples_obama-1080p.jpg (the same official
portrait at 1920x1080) when ../shared is there, else the committed 960x540 copy tests/gst/data/obama-colour.jpg.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "models"))

SHARED = os.path.join(ROOT, "..", "shared", "data", "faces", "images", "github-ageitgey-face_recognition",
                      "examples_obama-1080p.jpg")
COMMITTED = os.path.join(ROOT, "tests", "gst", "data", "obama-colour.jpg")
SEED = 7
FRAMES = 8          # the face fades in over 4 frames; the last of 8 has alpha 1 and settled landmarks
PANEL_W = 440       # target panel width: two panels fit the README's ~900 px
HEADER = 34
GAP = 8
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def source():
    if os.path.exists(SHARED):
        return SHARED
    print(f"figures: {SHARED} not found (no ../shared): using the committed 960x540 copy {COMMITTED}",
          file=sys.stderr)
    return COMMITTED


def face_tool(png, tmp):
    """Landmarks [68,2] (frame px) and the skin mask [H,W] 0..255 of the largest face, from face-tool."""
    build = os.environ.get("BEAUTIFY_BUILD", "build")
    tool = os.path.join(ROOT, build, "face", "face-tool")
    subprocess.run([tool, "--out", tmp, png], check=True, stdout=subprocess.DEVNULL)
    stem = os.path.splitext(os.path.basename(png))[0]
    with open(os.path.join(tmp, stem + ".json")) as f:
        faces = json.load(f)["faces"]
    if not faces:
        sys.exit(f"figures: face-tool found no face in {png}")
    face = max(faces, key=lambda fc: fc["size"])
    if len(faces) > 1:
        sys.exit("figures: more than one face; the mask PNG would hold them all")
    mask = np.asarray(Image.open(os.path.join(tmp, stem + "_mask.png")).convert("L"))
    return np.array(face["landmarks"], dtype=np.float32), mask


def beautify(png_in, png_out):
    """Runs png_in through the element (FRAMES frames of the still) and saves the last output frame; returns the
    element's last message's faces (roi, alpha)."""
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    pipe = Gst.parse_launch(
        f'filesrc location="{png_in}" ! pngdec ! videoconvert ! video/x-raw,format=RGB ! '
        f"imagefreeze num-buffers={FRAMES} ! "
        "beautify name=b synchronous-detection=always post-messages=true strength=1.0 tier=m ! "
        "videoconvert ! video/x-raw,format=RGB ! appsink name=sink sync=false")
    sink = pipe.get_by_name("sink")
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    last, faces = None, []
    while True:
        sample = sink.emit("pull-sample")
        if sample is None:
            break
        last = sample
        while True:
            msg = bus.pop_filtered(Gst.MessageType.ELEMENT | Gst.MessageType.ERROR)
            if msg is None:
                break
            if msg.type == Gst.MessageType.ERROR:
                sys.exit("figures: " + msg.parse_error()[0].message)
            s = msg.get_structure()
            if s.get_name() == "beautify":
                # PyGObject without python3-gst-1.0 cannot read a GstValueList: parse the serialised structure.
                txt = s.to_string().replace("\\", "")
                faces = [dict(zip(("roi_x", "roi_y", "roi_w", "roi_h", "alpha"),
                                  (int(m[0]), int(m[1]), int(m[2]), int(m[3]), float(m[4]))))
                         for m in re.findall(r"roi-x=\(int\)(-?\d+), roi-y=\(int\)(-?\d+), "
                                             r"roi-width=\(int\)(\d+), roi-height=\(int\)(\d+), "
                                             r"alpha=\(double\)([-0-9.e]+)", txt)]
    msg = bus.pop_filtered(Gst.MessageType.ERROR)
    pipe.set_state(Gst.State.NULL)
    if msg is not None:
        sys.exit("figures: " + msg.parse_error()[0].message)
    if last is None:
        sys.exit("figures: the pipeline produced no frame")
    caps = last.get_caps().get_structure(0)
    w, h = caps.get_value("width"), caps.get_value("height")
    buf = last.get_buffer()
    ok, info = buf.map(Gst.MapFlags.READ)
    stride = (w * 3 + 3) // 4 * 4  # GStreamer's default RGB stride
    data = np.frombuffer(info.data, np.uint8)[: stride * h].reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()
    buf.unmap(info)
    Image.fromarray(data).save(png_out)
    if not faces:
        sys.exit("figures: the element found no face")
    return faces


def blemished(frame, pts, mask):
    """The portrait's clean base with synthetic blemishes, drawn at frame resolution by models/beautynet/synth.py."""
    import torch
    from beautynet import synth
    c = torch.from_numpy(frame.copy()).permute(2, 0, 1)[None].float() / 255
    skin = torch.from_numpy(mask.copy())[None, None].float() / 255
    p = torch.from_numpy(pts)[None]
    with torch.no_grad():
        b = synth.clean_base(c, skin, p)
        x = synth.add_blemishes(b, skin, p, torch.Generator().manual_seed(SEED))["x"]
    return (x[0].permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy()


def crop_box(pts, w, h):
    """One cheek (the subject's right, on the picture's left) and the nose: a square ~0.9 jaw widths wide."""
    jaw = float(pts[16, 0] - pts[0, 0])
    side = int(round(0.9 * jaw))
    cx = 0.5 * (pts[2, 0] + pts[33, 0]) + 0.08 * jaw
    cy = 0.5 * (pts[41, 1] + pts[48, 1]) + 0.12 * jaw
    x0 = int(np.clip(round(cx - side / 2), 0, w - side))
    y0 = int(np.clip(round(cy - side / 2), 0, h - side))
    scale = max(1, int(round(PANEL_W / side)))
    return (x0, y0, x0 + side, y0 + side), scale


def font(size):
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        print(f"figures: {FONT} missing (Debian fonts-dejavu-core): PIL's default font", file=sys.stderr)
        return ImageFont.load_default()


def compose(panels, labels, box, scale, out):
    x0, y0, x1, y1 = box
    pw, ph = (x1 - x0) * scale, (y1 - y0) * scale
    n = len(panels)
    img = Image.new("RGB", (n * pw + (n - 1) * GAP, HEADER + ph), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    f = font(19)
    for i, (p, label) in enumerate(zip(panels, labels)):
        tile = Image.fromarray(p[y0:y1, x0:x1]).resize((pw, ph), Image.NEAREST)
        x = i * (pw + GAP)
        img.paste(tile, (x, HEADER))
        draw.text((x + 4, HEADER // 2), label, fill=(0, 0, 0), font=f, anchor="lm")
    img.save(out, optimize=True)
    print(f"wrote {out} ({img.width}x{img.height}; crop {x1 - x0}x{y1 - y0} px at ({x0},{y0}), x{scale})")


def check(before, after, faces, mask, name):
    """Where the element changed pixels: all inside its ROI; how many outside face-tool's mask."""
    diff = np.abs(after.astype(int) - before.astype(int)).max(2)
    inside = np.zeros(diff.shape, bool)
    for fc in faces:
        inside[fc["roi_y"]:fc["roi_y"] + fc["roi_h"], fc["roi_x"]:fc["roi_x"] + fc["roi_w"]] = True
    changed = diff > 0
    ys, xs = np.nonzero(changed)
    bbox = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) if changed.any() else None
    print(f"{name}: faces {[(fc['roi_x'], fc['roi_y'], fc['roi_w'], fc['roi_h'], fc['alpha']) for fc in faces]} "
          f"(roi x, y, w, h, alpha); changed pixels {changed.sum()} (bbox {bbox}), outside the ROI "
          f"{(changed & ~inside).sum()}, where face-tool's mask is 0 {(changed & (mask == 0)).sum()}; "
          f"max |diff| {diff.max()}, mean |diff| on the mask>128 {diff[mask > 128].mean():.2f}")
    if (changed & ~inside).any():
        sys.exit(f"figures: {name}: the element changed pixels outside its ROI")
    return diff


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    src = source()
    with tempfile.TemporaryDirectory(prefix="beautify-figures-") as tmp:
        frame = np.asarray(Image.open(src).convert("RGB"))
        h, w, _ = frame.shape
        orig_png = os.path.join(tmp, "portrait.png")
        Image.fromarray(frame).save(orig_png)
        pts, mask = face_tool(orig_png, tmp)
        box, scale = crop_box(pts, w, h)
        tier_label = "after: beautify tier M, strength 1"

        # 1. synthetic blemishes -> element
        blem = blemished(frame, pts, mask)
        blem_png = os.path.join(tmp, "blemished.png")
        Image.fromarray(blem).save(blem_png)
        after_png = os.path.join(tmp, "blemished-after.png")
        faces = beautify(blem_png, after_png)
        after = np.asarray(Image.open(after_png).convert("RGB"))
        check(blem, after, faces, mask, "blemished")
        compose([blem, after], ["before (synthetic blemishes)", tier_label], box, scale,
                os.path.join(out, "before-after.png"))

        # 2. the real portrait -> element, with the difference x 8
        real_png = os.path.join(tmp, "real-after.png")
        faces = beautify(orig_png, real_png)
        real = np.asarray(Image.open(real_png).convert("RGB"))
        check(frame, real, faces, mask, "real")
        amp = np.clip(np.abs(real.astype(int) - frame.astype(int)) * 8, 0, 255).astype(np.uint8)
        compose([frame, real, amp], ["before (official portrait)", tier_label, "|after − before| × 8"], box,
                scale, os.path.join(out, "before-after-real.png"))


if __name__ == "__main__":
    main()
