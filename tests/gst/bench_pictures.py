#!/usr/bin/python3
"""Pictures for scripts/bench-element: one-face.png (one portrait) and four-faces.png (four head crops in a row,
each cell the frame's height tall, so every face stays detectable at 720p). Faces are located with the beautify
element itself (post-messages). Real photos from ../shared/data/faces when present, else the public-domain copies.

usage: bench_pictures.py OUT_DIR
"""
import os
import re
import sys

import gi
from PIL import Image, ImageOps

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.join(ROOT, "..", "shared", "data", "faces", "images")
SHARED_PICS = ["github-ageitgey-face_recognition/examples_obama-1080p.jpg",
               "github-ageitgey-face_recognition/examples_biden.jpg",
               "github-ageitgey-face_recognition/examples_alex-lacamoire.png",
               "github-ageitgey-face_recognition/examples_lin-manuel-miranda.png"]
LOCAL_PICS = ["tests/gst/data/obama-colour.jpg", "tests/gst/data/biden-colour.jpg", "tests/face/data/astronaut-grey.png",
              "tests/gst/data/obama-colour.jpg"]


def face_box(path):
    """The largest face's box (x, y, w, h) in the picture's pixels, found by the element."""
    pipe = Gst.parse_launch(
        f'filesrc location="{path}" ! decodebin ! videoconvert ! imagefreeze num-buffers=2 ! '
        "beautify synchronous-detection=always post-messages=true strength=0 min-face-size=24 ! fakesink")
    bus = pipe.get_bus()
    pipe.set_state(Gst.State.PLAYING)
    best = None
    while True:
        msg = bus.timed_pop_filtered(20 * Gst.SECOND, Gst.MessageType.ELEMENT | Gst.MessageType.EOS |
                                     Gst.MessageType.ERROR)
        if msg is None or msg.type != Gst.MessageType.ELEMENT:
            if msg is not None and msg.type == Gst.MessageType.ERROR:
                print(msg.parse_error()[0].message, file=sys.stderr)
            break
        s = msg.get_structure()
        if s.get_name() != "beautify":
            continue
        # PyGObject without python3-gst-1.0 cannot read a GstValueList: parse the serialised structure.
        for m in re.finditer(r"face, id=\(int\)-?\d+, x=\(int\)(-?\d+), y=\(int\)(-?\d+), "
                             r"width=\(int\)(\d+), height=\(int\)(\d+)", s.to_string().replace("\\", "")):
            box = tuple(int(v) for v in m.groups())
            if best is None or box[2] > best[2]:
                best = box
    pipe.set_state(Gst.State.NULL)
    return best


def head_crop(img, box, cell_w, cell_h):
    x, y, w, h = box
    cw = w / 0.5  # the face takes half the cell's width
    ch = cw * cell_h / cell_w
    cx, cy = x + w / 2, y + h / 2
    left, top = cx - cw / 2, cy - 0.42 * ch
    return img.crop((int(left), int(top), int(left + cw), int(top + ch))).resize((cell_w, cell_h), Image.LANCZOS)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    Gst.init(None)
    use_shared = all(os.path.exists(os.path.join(SHARED, p)) for p in SHARED_PICS)
    pics = [os.path.join(SHARED, p) for p in SHARED_PICS] if use_shared else [os.path.join(ROOT, p) for p in LOCAL_PICS]
    Image.open(pics[0]).convert("RGB").save(os.path.join(out, "one-face.png"))
    W, H = 1920, 1080
    row = Image.new("RGB", (W, H))
    for i, p in enumerate(pics):
        img = Image.open(p).convert("RGB")
        if i == 3 and not use_shared:
            img = ImageOps.mirror(img)
        box = face_box(p)
        if box is None:
            sys.exit(f"no face found in {p}")
        if i == 3 and not use_shared:
            box = (img.width - box[0] - box[2], box[1], box[2], box[3])
        row.paste(head_crop(img, box, W // 4, H), (i * W // 4, 0))
    row.save(os.path.join(out, "four-faces.png"))
    print("shared" if use_shared else "public-domain")


if __name__ == "__main__":
    main()
