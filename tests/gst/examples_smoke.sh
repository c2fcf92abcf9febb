#!/bin/sh
# Smoke-runs every example on a still picture or videotestsrc instead of a camera/window (the launch scripts take
# BEAUTIFY_SRC / BEAUTIFY_SINK overrides). usage: examples_smoke.sh SOURCE_ROOT C_APP
set -eu
root=$1 app=$2
ex=$root/examples
pic=$root/tests/gst/data/obama-colour.jpg
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { echo "== $1"; }

check file-to-file.sh
"$ex/file-to-file.sh" "$pic" "$tmp/out.mp4" strength=0.9 >/dev/null
test -s "$tmp/out.mp4"

export BEAUTIFY_SRC="videotestsrc num-buffers=20 pattern=ball ! video/x-raw,width=320,height=240"
export BEAUTIFY_SINK="fakesink"
check webcam-window.sh
"$ex/webcam-window.sh" strength=0.5 >/dev/null
check virtual-camera.sh
"$ex/virtual-camera.sh" >/dev/null
check side-by-side.sh
"$ex/side-by-side.sh" "$pic" >/dev/null

check "beautify-app (C)"
"$app" "filesrc location=$pic ! jpegdec ! imagefreeze num-buffers=30" "fakesink sync=true" | tee "$tmp/c.txt"
grep -q "faces 1" "$tmp/c.txt"
check "beautify-app.py"
/usr/bin/python3 "$ex/beautify-app.py" "filesrc location=$pic ! jpegdec ! imagefreeze num-buffers=30" "fakesink sync=true" | tee "$tmp/py.txt"
grep -q "faces 1" "$tmp/py.txt"
check "obs-filter.txt pipeline text"
text=$(grep -m1 '^    videoconvert ! beautify' "$ex/obs-filter.txt")
gst-launch-1.0 -q videotestsrc num-buffers=5 ! $text ! fakesink
echo "examples: ok"
