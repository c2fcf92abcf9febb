#!/usr/bin/env python3
"""The tools' command lines, run as a user would: a bad value exits 2 with "TOOL: --option: why" on stderr (never an
abort or a silent fallback), --help exits 0, a failure while running exits 1, and the JSON they write stays valid
for file names with quotes, backslashes and bytes that are not UTF-8.

Usage: test_cli.py NAME=PATH ...   (bty-bench, bty-run, model; optional face-tool, face-bench, photo, bench-element)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

PATHS = dict(a.split("=", 1) for a in sys.argv[1:])


def run(tool, *args):
    p = subprocess.run([PATHS[tool], *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class Cli(unittest.TestCase):
    def refused(self, tool, args, *needles):
        """The tool exits 2 and says every needle on stderr, with the --help hint."""
        rc, out, err = run(tool, *args)
        self.assertEqual(rc, 2, f"{tool} {args}: exit {rc}, stderr {err!r}")
        self.assertTrue(err.startswith(tool + ": "), err)
        for n in needles:
            self.assertIn(n, err, f"{tool} {args}")
        self.assertIn(f"Run '{tool} --help'", err)

    def needs(self, *names):
        for n in names:
            if n not in PATHS:
                self.skipTest(f"{n} was not built")


class EngineTools(Cli):
    def test_threads_out_of_range_or_not_a_number(self):
        self.refused("bty-bench", ["--peak", "--threads", "4294967297"], "--threads: 4294967297 is out of range 1..64")
        self.refused("bty-bench", ["--peak", "--threads", "0"], "--threads: 0 is out of range 1..64")
        self.refused("bty-bench", ["--peak", "--threads", "65"], "out of range 1..64")
        self.refused("bty-bench", ["--peak", "--threads", "abc"], "--threads: 'abc' is not a whole number")
        self.refused("bty-bench", ["--peak", "--threads", "2.5"], "--threads: '2.5' is not a whole number")
        self.refused("bty-bench", ["--peak", "--threads", ""], "--threads: '' is not a whole number")
        self.refused("bty-bench", ["--peak", "--threads"], "Missing argument for --threads")

    def test_other_values(self):
        m = PATHS["model"]
        self.refused("bty-bench", ["--model", m, "--executor", "fast"],
                     "--executor: must be one of reference|layered|pipeline, got 'fast'")
        self.refused("bty-bench", ["--model", m, "--isa", "neon"], "--isa: must be one of")
        self.refused("bty-bench", ["--model", m, "--width", "-8"], "--width: -8 is out of range 0..8192")
        self.refused("bty-bench", ["--model", m, "--segment-kib", "8"], "--segment-kib: 8 is out of range 16..")
        self.refused("bty-bench", ["--model", m, "--reps", "0"], "--reps: 0 is out of range 1..")
        self.refused("bty-bench", ["--model", m, "--reps", "1e3"], "--reps: '1e3' is not a whole number")
        self.refused("bty-bench", ["--model", m, "--bogus"], "Unknown option --bogus")
        self.refused("bty-bench", ["--model", m, "stray"], "unexpected argument 'stray'")
        self.refused("bty-bench", [], "--model is required")
        self.refused("bty-run", ["--model", m, "--output", "x.f32"], "--input-planar is required")

    def test_help_and_failures(self):
        rc, out, _ = run("bty-bench", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("--threads=N", out)
        self.assertIn("(1..64, default 1)", out)
        rc, _, err = run("bty-bench", "--model", "/nonexistent/x.bmodel")
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("bty-bench: ") and "/nonexistent/x.bmodel" in err, err)

    def test_bench_prints_one_json_object(self):
        rc, out, err = run("bty-bench", "--model", PATHS["model"], "--reps", "2", "--warmup", "0", "--threads", "2")
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        self.assertEqual(j["threads"], 2)
        self.assertEqual(len(j["times_ms"]), 2)
        self.assertGreater(j["macs"], 0)
        self.assertTrue(all(layer["median_s"] >= 0 for layer in j["layers"]))


class FaceTools(Cli):
    def setUp(self):
        self.needs("face-tool", "face-bench", "photo")
        self.tmp = tempfile.mkdtemp(prefix="bty-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_bad_values(self):
        p = PATHS["photo"]
        self.refused("face-tool", ["--max-faces", "abc", p], "--max-faces: 'abc' is not a whole number")
        self.refused("face-tool", ["--max-faces", "0", p], "--max-faces: 0 is out of range 1..")
        self.refused("face-tool", ["--min-face", "99999999999999999999", p], "--min-face: 99999999999999999999 is out")
        self.refused("face-tool", ["--raw", "640x", "c.y"], "--raw: '640x' is not a frame size")
        self.refused("face-tool", ["--raw", "4294967297x2", "c.y"], "--raw: '4294967297x2' is not a frame size")
        self.refused("face-tool", ["--raw", "8x8", "--format", "rgb", "c.y"], "--format: must be one of gray|i420")
        self.refused("face-tool", ["--sync", p], "apply to raw clips")
        self.refused("face-tool", ["--raw", "8x8", "--crops", "c.y"], "--crops applies to images")
        self.refused("face-tool", [], "needs an argument")
        self.refused("face-bench", ["--frames", "10"], "--frames: 10 is out of range 60..")
        self.refused("face-bench", ["--only", "speed"], "--only: must be one of all|cost|jitter|recall")

    def test_json_with_awkward_file_names(self):
        names = ['we"ird \\ name.jpg', os.fsdecode(b"caf\xe9 \x01.jpg")]
        for name in names:
            photo = os.path.join(self.tmp, name)
            shutil.copyfile(PATHS["photo"], photo)
            for mode in ([], ["--crops"]):
                rc, _, err = run("face-tool", *mode, "--out", self.tmp, photo)
                self.assertEqual(rc, 0, err)
                stem = os.path.splitext(name)[0]
                out = os.path.join(self.tmp, stem + ("_f0.json" if mode else ".json"))
                # Parsed by a separate interpreter, as a user's script would.
                check = ("import json, sys; d = json.load(open(sys.argv[1], encoding='utf-8')); "
                         "print(d['image']); print(len(d['faces']) if 'faces' in d else 1)")
                p = subprocess.run([sys.executable, "-c", check, out], stdout=subprocess.PIPE, text=True,
                                   encoding="utf-8", errors="replace")
                self.assertEqual(p.returncode, 0, f"{out} is not valid JSON")
                shown, faces = p.stdout.splitlines()
                self.assertEqual(int(faces), 1)
                if name.isprintable():
                    self.assertEqual(shown, photo)  # exactly the name, quote and backslash included
                else:
                    self.assertTrue(shown.startswith(self.tmp + "/caf"), shown)  # shown as GLib's display name

    def test_raw_clip_writes_json(self):
        clip = os.path.join(self.tmp, 'cl"ip.y')
        with open(clip, "wb") as f:
            f.write(bytes(64 * 48 * 2))  # two black frames
        rc, _, err = run("face-tool", "--raw", "64x48", "--sync", "--out", self.tmp, clip)
        self.assertEqual(rc, 0, err)
        with open(os.path.join(self.tmp, 'cl"ip_landmarks.json'), encoding="utf-8") as f:
            j = json.load(f)
        self.assertEqual(j["clip"], clip)
        self.assertEqual([fr["frame"] for fr in j["frames"]], [0, 1])
        self.assertEqual([fr["faces"] for fr in j["frames"]], [[], []])


class ElementBench(Cli):
    def test_bad_values(self):
        self.needs("bench-element")
        self.refused("bench-element", [], "--picture is required")
        self.refused("bench-element", ["--picture", "p.png", "--width", "abc"], "--width: 'abc' is not a whole number")
        self.refused("bench-element", ["--picture", "p.png", "--rounds", "0"], "--rounds: 0 is out of range 1..")
        self.refused("bench-element", ["--picture", "p.png", "--format", "RGBQ"], "--format: 'RGBQ' is not a GStreamer")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
