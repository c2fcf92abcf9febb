"""Post-training colour-bias calibration of exported .bmodel files, on TRAINING faces only.

Why: the retouch recipe pulls in only dark/red low-band outliers, so its targets are on average 1.6/255 brighter
than the clean photos, and the nets learned that global lift (plus up to ~1.7/255 of extra green). A uniform shift
of skin colour is not retouching; it costs ΔE on every skin pixel. This fits one offset per output channel of the
head's bias so that, on blemished training crops (the training distribution, fixed seed), the mean of the composed
output minus the clean photo over the skin is zero. Nothing else changes; the validation faces are never read.

    /usr/bin/python3 models/beautynet/calibrate.py models/beautify-{s,m,l}.bmodel
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
from beautynet import arch, bmodel, nets, synth  # noqa: E402


def mean_offset(net, data, idx, seed, batch=16):
    """Mean (Y - C) over skin in 8-bit units, per channel, and mean tanh'(z) of the head, on training batches."""
    g = torch.Generator().manual_seed(seed)
    t = net.tier
    num, den, slope = torch.zeros(3, dtype=torch.float64), 0.0, torch.zeros(3, dtype=torch.float64)
    for s in range(0, len(idx), batch):
        i = idx[s:s + batch]
        c, sk, ft, po = synth.augment(data["img"][i], data["skin"][i], data["feat"][i], data["pts"][i], g,
                                      (t.height, t.width), strong=True)
        x, bm = synth.add_blemishes(c, sk, po, g)
        with torch.no_grad():
            out = net(nets.to_net(x))
        y = nets.compose(x, out, sk)
        m = (sk > 0.5).double()
        num += ((y - c).double() * m).sum((0, 2, 3)) * 255
        den += float(m.sum())
        mh = torch.nn.functional.interpolate(m, size=out.shape[-2:], mode="area")
        slope += ((1 - out.double() ** 2) * mh).sum((0, 2, 3)) / mh.sum() * len(i)
    return (num / den).numpy(), (slope / len(idx)).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data", default=os.path.join(ROOT, ".devdata", "faces.npz"))
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--log", default=os.path.join(ROOT, "out", "calibration.json"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    data = synth.load_faces(a.data, "cpu")
    tr = np.nonzero(~data["val"])[0]
    idx = torch.from_numpy(np.concatenate([tr, tr]))  # every training face twice (two augmented views)
    log = {}
    for path in a.models:
        m = bmodel.read(path)
        net = nets.load_bmodel(path)
        head = net.convs[-1]
        rec = []
        for it in range(a.iters):
            off, slope = mean_offset(net, data, idx, a.seed)
            rec.append(off.tolist())
            print("%s iter %d: mean (Y - C) on training skin %s /255" % (os.path.basename(path), it,
                                                                       np.round(off, 2)))
            dz = -(off / arch.OUTPUT_SCALE) / np.maximum(slope, 0.05)
            with torch.no_grad():
                head.bias += torch.from_numpy(dz).float()
        off, _ = mean_offset(net, data, idx, a.seed)
        rec.append(off.tolist())
        print("%s final: %s /255" % (os.path.basename(path), np.round(off, 2)))
        ws = [(c.weight.detach().double().numpy(), c.bias.detach().double().numpy()) for c in net.convs]
        bmodel.write(path, m["tier"], m["width"], m["height"], m["layers"], ws, m["input_scale"], m["input_bias"],
                     m["output_scale"], m["colour"])
        log[os.path.basename(path)] = dict(offsets_per_iteration=rec,
                                           head_bias_shift=(head.bias.detach().numpy() - m["weights"][-1][1]).tolist())
    os.makedirs(os.path.dirname(a.log), exist_ok=True)
    with open(a.log, "w") as f:
        json.dump(log, f, indent=1)


if __name__ == "__main__":
    main()
