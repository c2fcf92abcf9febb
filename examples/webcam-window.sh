#!/bin/sh
# Webcam -> beautify -> window. usage: webcam-window.sh [beautify properties...]   (BEAUTIFY_CAMERA=/dev/videoN)
# BEAUTIFY_SRC / BEAUTIFY_SINK replace the camera and the window (used by the smoke test).
set -eu
src=${BEAUTIFY_SRC:-"v4l2src device=${BEAUTIFY_CAMERA:-/dev/video0}"}
sink=${BEAUTIFY_SINK:-"autovideosink sync=false"}
exec gst-launch-1.0 $src ! videoconvert ! beautify "$@" ! videoconvert ! $sink
