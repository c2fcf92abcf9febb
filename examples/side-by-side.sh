#!/bin/sh
# Original (left) and beautified (right) side by side, from the webcam or from a file.
# usage: side-by-side.sh [FILE] [beautify properties...]   (BEAUTIFY_SRC / BEAUTIFY_SINK override source and sink)
set -eu
if [ $# -gt 0 ] && [ -f "$1" ]; then
  src="filesrc location=$1 ! decodebin"
  shift
else
  src=${BEAUTIFY_SRC:-"v4l2src device=${BEAUTIFY_CAMERA:-/dev/video0}"}
fi
sink=${BEAUTIFY_SINK:-"autovideosink sync=false"}
exec gst-launch-1.0 $src ! videoconvert ! videoscale ! video/x-raw,format=I420,width=640,height=360 ! tee name=t \
  t. ! queue ! comp.sink_0 \
  t. ! queue ! beautify "$@" ! comp.sink_1 \
  compositor name=comp sink_1::xpos=640 ! videoconvert ! $sink
