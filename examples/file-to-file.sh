#!/bin/sh
# Any video file -> retouched file. usage: file-to-file.sh INPUT OUTPUT [beautify properties...]
#   examples/file-to-file.sh talk.mp4 talk-beautified.mp4 strength=0.8
# H.264 in MP4 with x264enc (gstreamer1.0-plugins-ugly); without it, MJPEG in Matroska (name OUTPUT .mkv).
set -eu
in=$1 out=$2
shift 2
if gst-inspect-1.0 x264enc >/dev/null 2>&1; then
  enc="x264enc speed-preset=faster ! mp4mux"
else
  enc="jpegenc ! matroskamux"
fi
# A file source is not live, so beautify detects inside each frame that needs it (synchronous-detection=auto, the
# default): faces are retouched from their first frame.
exec gst-launch-1.0 -e filesrc location="$in" ! decodebin ! videoconvert ! \
  beautify "$@" ! videoconvert ! video/x-raw,format=I420 ! $enc ! filesink location="$out"
