#!/usr/bin/env python3
"""Face crops, skin masks and feature masks from the shared photos, for training and evaluation.

Runs on the CPU here; writes one compressed file (default .devdata/faces.npz, git-ignored) that travels to the GPU
machine. Faces and 68 landmarks come from dlib (HOG + shape_predictor_68, through models/tools/landmarks.cpp) because
the project's face-tool was not available when the training data had to be made; the skin mask follows the recipe the
face stage is meant to use (landmark hull + forehead, minus eyes/brows/lips/nostrils, gated by skin chroma, feathered).

Split by source and identity: whole sources held out for validation (VAL_SOURCES) plus every photo of the
identities in VAL_IDENTITIES, whatever source it came from, so no validation face was seen in training.

Beside the single crops, pairs of consecutive video frames (t, t+1) from every clip, both cropped with frame t's
framing, with frame t's masks and the optical flow between the two crops: the second view of the temporal term
(synth.make_pair_batch, train.py --w-temp-video); the validation clips' pairs check it.
"""
import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from beautynet import arch, flicker  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CROP_W, CROP_H = 288, 360          # stored crop (aspect 1 / arch.CROP_ASPECT), 1/SPAN of it is the nominal face ROI
assert abs(CROP_H / CROP_W - arch.CROP_ASPECT) < 1e-6
SPAN = 1.15                        # stored crop covers 1.15x the nominal ROI: room for scale/shift augmentation
MIN_FACE = 100                     # dlib box width in source pixels; smaller faces would be upsampled mush
VAL_SOURCES = {"debian-python3-skimage", "debian-opencv-doc", "github-google-mediapipe", "github-KwaiVGI-LivePortrait"}
VAL_IDENTITIES = ("obama", "biden")
VIDEO_FRAMES = 12                  # per training-source clip: 8 clips -> ~100 more training faces
VIDEO_PAIRS = 32                   # consecutive-frame pairs per training clip; a validation clip gets a quarter
PAIR_QUALITY = 92                  # their JPEG quality (the file travels to the GPU machine: 64 MiB in all)
FLOW_STEP = 4                      # the pairs' flow is stored at 1/FLOW_STEP of the crop's resolution (it is smooth)
PREDICTOR = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"


def landmark_tool(bindir):
    exe = os.path.join(bindir, "landmarks")
    src = os.path.join(ROOT, "models", "tools", "landmarks.cpp")
    cli = os.path.join(ROOT, "cli")
    if not os.path.exists(exe) or os.path.getmtime(exe) < max(os.path.getmtime(f) for f in (
            src, os.path.join(cli, "options.cpp"), os.path.join(cli, "options.h"))):
        os.makedirs(bindir, exist_ok=True)
        glib = subprocess.check_output(["pkg-config", "--cflags", "--libs", "glib-2.0"], text=True).split()
        subprocess.check_call(["g++", "-O2", "-std=c++17", "-I" + cli, src, os.path.join(cli, "options.cpp"), "-o", exe]
                              + glib + ["-ldlib", "-lblas", "-llapack"])
    return exe


def detect(paths, bindir):
    """Returns {path: [(box[4], pts[68,2]), ...]} in source pixel coordinates."""
    exe = landmark_tool(bindir)
    with tempfile.TemporaryDirectory() as tmp:
        lst, scale = [], {}
        for i, p in enumerate(paths):
            g = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
            s = min(1.0, 1000.0 / max(g.shape))  # detector at <= 1000 px, landmarks scaled back
            if s < 1:
                g = cv2.resize(g, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            q = os.path.join(tmp, "%d.pgm" % i)
            cv2.imwrite(q, g)
            lst.append(q)
            scale[q] = (p, s)
        out = subprocess.run([exe, PREDICTOR], input="\n".join(lst) + "\n", capture_output=True, text=True,
                             check=True).stdout
    res, cur, lines = {}, None, out.splitlines()
    i = 0
    while i < len(lines):
        f = lines[i].split()
        if f[0] == "IMG":
            cur = scale[f[1]]
            res[cur[0]] = []
            i += 1
        elif f[0] == "FACE":
            box = np.array([float(v) for v in f[1:5]]) / cur[1]
            pts = np.array([float(v) for v in lines[i + 1].split()]).reshape(68, 2) / cur[1]
            res[cur[0]].append((box, pts))
            i += 2
        else:
            raise RuntimeError("landmarks: unexpected line " + lines[i])
    return res


def crop_affine(pts):
    """2x3 affine taking source pixels to the stored crop, axis-aligned like the element's ROI."""
    jaw_w = np.linalg.norm(pts[16] - pts[0])
    w = arch.CROP_WIDTH * jaw_w * SPAN  # the framing the element reads from the .bmodel header (arch.CROP_*)
    h = w * CROP_H / CROP_W
    cx = 0.5 * (pts[0, 0] + pts[16, 0]) * 0.5 + 0.5 * pts[27:31, 0].mean()
    cy = pts[30, 1] - arch.CROP_NOSE_OFFSET * h / SPAN
    s = CROP_W / w
    return np.array([[s, 0, CROP_W / 2 - s * cx], [0, s, CROP_H / 2 - s * cy]], np.float64)


def poly(mask, p, val=255):
    cv2.fillPoly(mask, [np.round(p).astype(np.int32)], val)


def masks_from_landmarks(img, p):
    """Skin mask (feathered, u8) and feature mask (eyes/brows/lips, u8) in crop coordinates."""
    h, w = img.shape[:2]
    eye_d = np.linalg.norm(p[36:42].mean(0) - p[42:48].mean(0))
    # face hull: jaw line plus the brows lifted by ~0.45 eye distances for the forehead
    up = (p[27] - p[8]) / np.linalg.norm(p[27] - p[8])
    brows = p[17:27][::-1] + up * 0.45 * eye_d
    hull = np.concatenate([p[0:17], brows])
    skin = np.zeros((h, w), np.uint8)
    poly(skin, cv2.convexHull(hull.astype(np.float32))[:, 0])
    feat = np.zeros((h, w), np.uint8)
    k = max(1, int(round(0.06 * eye_d)))
    for a, b in ((36, 42), (42, 48), (48, 60)):
        poly(feat, p[a:b])
    for a, b in ((17, 22), (22, 27)):
        cv2.polylines(feat, [np.round(p[a:b]).astype(np.int32)], False, 255, max(2, int(0.12 * eye_d)))
    feat = cv2.dilate(feat, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    nostr = np.zeros((h, w), np.uint8)
    poly(nostr, p[31:36])
    holes = cv2.dilate(feat | nostr, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    skin[holes > 0] = 0
    # chroma gate: drop hair, glasses, beard and background that the hull covers
    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    cheeks = np.zeros((h, w), np.uint8)
    for a, b in ((1, 31), (15, 35)):
        c = 0.5 * (p[a] + p[b])
        cv2.circle(cheeks, tuple(int(v) for v in np.round(c)), max(2, int(0.18 * eye_d)), 255, -1)
    ref = np.median(ycc[cheeks > 0], axis=0)
    dc = np.hypot(ycc[..., 1] - ref[1], ycc[..., 2] - ref[2])
    dy = ycc[..., 0] / max(ref[0], 1.0)
    gate = ((dc < 14) & (dy > 0.45) & (dy < 1.6)).astype(np.uint8) * 255
    gate = cv2.morphologyEx(gate, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    skin &= gate
    sig = 0.03 * eye_d * 3
    skin = cv2.GaussianBlur(skin, (0, 0), max(1.0, sig))
    skin[holes > 0] = 0  # feathering must not leak onto the features
    return skin, feat


def clip_frames(path, n, length, outdir):
    """n runs of `length` consecutive frames spread evenly over a clip (its first and last 5 % skipped), written as
    PNG; returns one tuple of paths per run. Single frames (length 1): distinct poses, expressions and light of the
    clip's person, more faces to learn skin from than the photos alone; pairs: the temporal term's two views."""
    cap = cv2.VideoCapture(path)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    out = []
    for k in range(n if total >= length else 0):
        i = int(total * (0.05 + 0.9 * (k + 0.5) / n))
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        frames = [cap.read() for _ in range(length)]
        if all(ok for ok, _ in frames):
            stem = os.path.join(outdir, "%s_f%04d" % (os.path.splitext(os.path.basename(path))[0], i))
            out.append(tuple(stem + (".png" if length == 1 else "_%d.png" % j) for j in range(length)))
            for q, (_, f) in zip(out[-1], frames):
                cv2.imwrite(q, f)
    return out


def crop(img, M):
    """The stored crop of a source picture through the affine M (crop_affine), anti-aliased when it shrinks."""
    s = M[0, 0]
    if s >= 1:
        return cv2.warpAffine(img, M, (CROP_W, CROP_H), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)
    pre = cv2.GaussianBlur(img, (0, 0), 0.5 / s) if s < 0.5 else img  # warpAffine ignores INTER_AREA
    return cv2.warpAffine(pre, M, (CROP_W, CROP_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)


def read_rgb(path):
    return cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def encode(rgb, quality=97):
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.frombuffer(jpg.tobytes(), np.uint8)


def faces_in(found, path):
    """Each face of `path` big enough to learn from: (crop affine, landmarks in crop coordinates)."""
    for box, pts in found[path]:
        if box[2] - box[0] >= MIN_FACE:
            M = crop_affine(pts)
            yield M, pts @ M[:, :2].T + M[:, 2], int(box[2] - box[0])


def objects(seq):
    arr = np.empty(len(seq), object)
    arr[:] = seq
    return arr


def identity(src, name):
    for who in VAL_IDENTITIES:
        if who in name.lower():
            return who
    return src + "/" + os.path.splitext(name)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", default=os.path.join(ROOT, "..", "shared", "data", "faces"))
    ap.add_argument("-o", "--output", default=os.path.join(ROOT, ".devdata", "faces.npz"))
    ap.add_argument("--preview", help="folder for a few crop/mask previews")
    ap.add_argument("--video-pairs", type=int, default=VIDEO_PAIRS,
                    help="pairs of consecutive frames taken from each training clip, a quarter as many from each "
                    "validation clip (0: none)")
    ap.add_argument("--video-frames", type=int, default=VIDEO_FRAMES,
                    help="frames taken evenly from each training-source clip (0: photos only)")
    a = ap.parse_args()
    manifest = list(csv.DictReader(open(os.path.join(a.faces, "manifest.csv"))))
    rows = [r for r in manifest if r["kind"] == "images"]
    paths = [os.path.join(a.faces, r["file"]) for r in rows]
    tmp = tempfile.TemporaryDirectory()
    for r in manifest:
        if r["kind"] == "videos" and r["source"] not in VAL_SOURCES:
            for path, in clip_frames(os.path.join(a.faces, r["file"]), a.video_frames, 1, tmp.name):
                rows.append(r)
                paths.append(path)
    pairs = []
    for r in manifest:
        if r["kind"] == "videos":
            n = a.video_pairs if r["source"] not in VAL_SOURCES else a.video_pairs // 4
            pairs += [(r, q) for q in clip_frames(os.path.join(a.faces, r["file"]), n, 2, tmp.name)]
    found = detect(paths + [q[0] for _, q in pairs], os.path.join(os.path.dirname(a.output), "bin"))
    rec = {k: [] for k in ("jpeg", "skin", "feat", "pts", "val", "source", "file", "face_px", "ident")}
    for r, path in zip(rows, paths):
        img = read_rgb(path)
        for M, p, face_px in faces_in(found, path):
            c = crop(img, M)
            skin, feat = masks_from_landmarks(c, p)
            if (skin > 128).mean() < 0.08:
                continue  # occluded or profile: the gate left too little skin
            who = identity(r["source"], os.path.basename(r["file"]))  # a clip's frames: one identity
            for k, v in (("jpeg", encode(c)), ("skin", skin), ("feat", feat), ("pts", p.astype(np.float32)),
                         ("val", r["source"] in VAL_SOURCES or who in VAL_IDENTITIES), ("source", r["source"]),
                         ("file", os.path.basename(path)), ("face_px", face_px), ("ident", who)):
                rec[k].append(v)
    pr = {k: [] for k in ("0jpeg", "1jpeg", "skin", "feat", "pts", "flow", "val", "clip")}
    for r, (p0, p1) in pairs:
        im0, im1 = read_rgb(p0), read_rgb(p1)
        for M, p, _ in faces_in(found, p0):
            c0, c1 = crop(im0, M), crop(im1, M)
            skin, feat = masks_from_landmarks(c0, p)
            if (skin > 128).mean() < 0.08:
                continue
            f = flicker.flow(flicker.luma(c1), flicker.luma(c0))  # c1[q] ~ c0[q + f[q]]
            f = cv2.resize(f, (CROP_W // FLOW_STEP, CROP_H // FLOW_STEP), interpolation=cv2.INTER_AREA)
            who = identity(r["source"], os.path.basename(r["file"]))
            for k, v in (("0jpeg", encode(c0, PAIR_QUALITY)), ("1jpeg", encode(c1, PAIR_QUALITY)), ("skin", skin),
                         ("feat", feat),
                         ("pts", p.astype(np.float32)), ("flow", f.transpose(2, 0, 1).astype(np.float16)),
                         ("val", r["source"] in VAL_SOURCES or who in VAL_IDENTITIES), ("clip", r["file"])):
                pr[k].append(v)
    n = len(rec["jpeg"])
    os.makedirs(os.path.dirname(a.output), exist_ok=True)
    extra = {}
    if pr["flow"]:
        extra = dict(pair0_jpeg=objects(pr["0jpeg"]), pair1_jpeg=objects(pr["1jpeg"]), pair_skin=np.stack(pr["skin"]),
                     pair_feat=np.stack(pr["feat"]), pair_pts=np.stack(pr["pts"]), pair_flow=np.stack(pr["flow"]),
                     pair_val=np.array(pr["val"]), pair_clip=np.array(pr["clip"]))
    np.savez_compressed(a.output, jpeg=objects(rec["jpeg"]), skin=np.stack(rec["skin"]), feat=np.stack(rec["feat"]),
                        pts=np.stack(rec["pts"]), val=np.array(rec["val"]), source=np.array(rec["source"]),
                        name=np.array(rec["file"]), face_px=np.array(rec["face_px"]), ident=np.array(rec["ident"]),
                        **extra)
    pv = np.array(pr["val"], bool)
    print("consecutive-frame pairs: %d from training clips, %d from validation clips" % ((~pv).sum(), pv.sum()))
    val = np.array(rec["val"])
    tr_id = {i for i, v in zip(rec["ident"], val) if not v}
    va_id = {i for i, v in zip(rec["ident"], val) if v}
    assert not (tr_id & va_id), "identity leak between splits"
    print("%d faces: %d train (%d identities), %d validation (%d identities) -> %s (%.1f MiB)" % (
        n, (~val).sum(), len(tr_id), val.sum(), len(va_id), a.output, os.path.getsize(a.output) / 2**20))
    if a.preview:
        os.makedirs(a.preview, exist_ok=True)
        for i in range(0, n, max(1, n // 12)):
            c = cv2.imdecode(rec["jpeg"][i], cv2.IMREAD_COLOR)
            ov = c.copy()
            ov[..., 2] = np.maximum(ov[..., 2], rec["skin"][i])
            ov[..., 0] = np.maximum(ov[..., 0], rec["feat"][i])
            cv2.imwrite(os.path.join(a.preview, "%03d.jpg" % i), np.concatenate([c, ov], 1))


if __name__ == "__main__":
    sys.exit(main())
