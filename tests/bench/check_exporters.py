#!/usr/bin/env python3
"""Unit check of the benchmark's own parts (scripts/bench engine --check): the .bmodel reader, the ONNX and ncnn
exporters (every peer loads them and matches an independent numpy float64 forward pass), the working-set formula,
and, when bty-bench is given (BTY_BENCH=path), that every peer and every executor of ours agree with our reference.
"""
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import bmodel_reader  # noqa: E402
import export_ncnn  # noqa: E402
import export_onnx  # noqa: E402
import numpy_ref  # noqa: E402
import peers  # noqa: E402
import workingset  # noqa: E402
from ours import Ours  # noqa: E402

TIERS = ("S", "M", "L")
PEER_TOL = 1e-4   # peer vs float64 oracle (FP32 engines on these small nets land ~1e-5)
OURS_TOL = 1e-3   # the benchmark's acceptance tolerance vs our reference
_tmp = tempfile.TemporaryDirectory(prefix="bench-check-")
TMP = _tmp.name
_models = {}


def model_path(tier):
    if tier not in _models:
        p = os.path.join(TMP, f"{tier}.bmodel")
        subprocess.run([sys.executable, os.path.join(ROOT, "models", "tools", "make_test_model.py"), "--tier", tier,
                        "--seed", "3", "-o", p], check=True)
        _models[tier] = p
    return _models[tier]


def model(tier):
    return bmodel_reader.read(model_path(tier))


def sample(w, h, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (3, h, w)).astype(np.float32)


class Reader(unittest.TestCase):
    def test_reads_tiers_like_arch(self):
        sys.path.insert(0, os.path.join(ROOT, "models"))
        from beautynet import arch
        for t in TIERS:
            m, a = model(t), arch.TIERS[t]
            self.assertEqual((m.width, m.height), (a.width, a.height))
            self.assertEqual(m.tier, "test-" + t)
            self.assertEqual([(l.op, l.a, l.b, l.out_channels, l.stride, l.act) for l in m.layers],
                             [(l.op, l.a, l.b, l.out_channels, l.stride, l.act) for l in a.layers])
            self.assertEqual(m.macs(), arch.macs(a))

    def test_rejects_damage(self):
        data = open(model_path("S"), "rb").read()
        for cut in (0, 50, 96, 200, len(data) - 1):
            with self.assertRaises(bmodel_reader.BModelError):
                bmodel_reader.parse(data[:cut], "cut")
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x40
        with self.assertRaisesRegex(bmodel_reader.BModelError, "checksum"):
            bmodel_reader.parse(bytes(flipped), "flip")
        bad = bytearray(data)
        struct.pack_into("<I", bad, 96, 9)  # layer 0 op = 9
        struct.pack_into("<I", bad, len(bad) - 4, zlib.crc32(bytes(bad[:-4])) & 0xFFFFFFFF)
        with self.assertRaisesRegex(bmodel_reader.BModelError, "unknown op"):
            bmodel_reader.parse(bytes(bad), "op")


class WorkingSet(unittest.TestCase):
    def test_m_by_hand(self):
        m = model("M")
        half = 80 * 112 * 4  # one channel at 1/2 resolution, bytes
        # Peak at the second concat: e1 (8 ch) + upsampled (16 ch) + concat (24 ch), all at 1/2 resolution.
        self.assertEqual(workingset.live_bytes(m), (8 + 16 + 24) * half)
        # Folded: the conv after the concat reads e1 (8) and the 1/4-res map (16 ch) and writes 8 ch.
        self.assertEqual(workingset.live_bytes(m, folded=True), (8 + 8) * half + 16 * half // 4)


class Exporters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.avail, cls.missing = peers.available()

    def test_all_peers_present(self):
        self.assertEqual(self.missing, {}, "every peer should import")

    def test_onnx_valid(self):
        import onnx
        for t in TIERS:
            m = export_onnx.build(model(t), 96, 128)
            onnx.checker.check_model(m)
            head = model(t).layers[-1].out_channels  # the raw head: 7 maps x shuffle 2^2 = 28 for the v2 tiers
            self.assertEqual([d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim], [1, head, 64, 48])

    def test_ncnn_param_counts(self):
        text, blob = export_ncnn.build(model("M"))
        lines = text.strip().split("\n")
        self.assertEqual(lines[0], "7767517")
        nl, nb = map(int, lines[1].split())
        self.assertEqual(nl, len(lines) - 2)
        tops = set()
        for ln in lines[2:]:
            f = ln.split()
            nin, nout = int(f[2]), int(f[3])
            tops.update(f[4 + nin: 4 + nin + nout])
        self.assertEqual(nb, len(tops))
        m = model("M")
        expect = sum(4 + 4 * (l.weight.size + l.bias.size) for l in m.layers if l.op == bmodel_reader.CONV)
        self.assertEqual(len(blob), expect)

    def _peers_match(self, tier, w, h, threads):
        m = model(tier)
        x = sample(w, h, seed=len(tier) + w)
        ref = numpy_ref.forward(m, x)
        for name, (cls, _v) in self.avail.items():
            with self.subTest(peer=name, tier=tier, size=(w, h), threads=threads):
                y = cls(m, w, h, threads, TMP).run(x)
                self.assertEqual(y.shape, ref.shape)
                self.assertLess(float(np.max(np.abs(y - ref))), PEER_TOL)

    def test_peers_match_oracle_tier_size(self):
        for t in TIERS:
            m = model(t)
            self._peers_match(t, m.width, m.height, 1)

    def test_peers_match_oracle_other_size_2_threads(self):
        self._peers_match("M", 208, 144, 2)  # landscape, not the tier's size


@unittest.skipUnless(os.environ.get("BTY_BENCH"), "BTY_BENCH not set: no bty-bench to compare with")
class AgainstOurs(unittest.TestCase):
    def test_ours_and_peers_agree(self):
        ours = Ours(os.environ["BTY_BENCH"])
        avail, _ = peers.available()
        for t in TIERS:
            m = model(t)
            w, h = m.width, m.height
            x = sample(w, h, seed=11)
            shape = m.head_shape()
            oracle = numpy_ref.forward(m, x)
            ref = ours.dump(model_path(t), w, h, "reference", x, TMP, shape)
            with self.subTest(tier=t, what="reference vs oracle"):
                self.assertLess(float(np.max(np.abs(ref - oracle))), PEER_TOL)
            for ex in ("layered", "pipeline"):
                for th in (1, 2):
                    with self.subTest(tier=t, executor=ex, threads=th):
                        y = ours.dump(model_path(t), w, h, ex, x, TMP, shape, th)
                        self.assertLess(float(np.max(np.abs(y - ref))), OURS_TOL)
            for name, (cls, _v) in avail.items():
                with self.subTest(tier=t, peer=name):
                    y = cls(m, w, h, 1, TMP).run(x)
                    self.assertLess(float(np.max(np.abs(y - ref))), OURS_TOL)


if __name__ == "__main__":
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print(f"{r.testsRun - failed - len(r.skipped)} passed, {failed} failed, {len(r.skipped)} skipped")
    sys.exit(1 if failed else 0)
