#!/bin/sh
# Runs obs_filter_test on a private X server (xvfb-run, Mesa llvmpipe) twice: on the clip as I420 (YUV4MPEG2) and as
# packed YUY2 (raw AVI, what most webcams send), each rendered fresh into a temp dir.
# usage: run_obs_test.sh TEST_BINARY RENDER_SCRIPT OBS_PLUGIN_DIR OBS_DATA_DIR OUR_MODULE.so OUR_DATA_DIR
set -eu
test_bin=$1 render=$2; shift 2
command -v xvfb-run >/dev/null || { echo "SKIP: xvfb-run not found (apt install xvfb xauth)"; exit 77; }
[ -f "$1/obs-ffmpeg.so" ] || { echo "SKIP: OBS's media source module is not in $1 (apt install obs-studio)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$render" "$tmp/face.y4m" --frames 60 >/dev/null  # obs_filter_test.cpp: kClipFrames
/usr/bin/python3 "$render" "$tmp/face.avi" --format yuy2 --frames 60 >/dev/null
export LIBGL_ALWAYS_SOFTWARE=1 HOME="$tmp"  # llvmpipe; OBS writes nothing into the real home
xvfb-run -a -s "-screen 0 1280x720x24" "$test_bin" "$tmp/face.y4m" I420 "$@"
exec xvfb-run -a -s "-screen 0 1280x720x24" "$test_bin" "$tmp/face.avi" YUY2 "$@"
