#!/bin/sh
# A beautified virtual camera for video-call apps, through v4l2loopback:
#   sudo apt install v4l2loopback-dkms
#   sudo modprobe v4l2loopback devices=1 video_nr=10 card_label="Beautify" exclusive_caps=1
#   examples/virtual-camera.sh            # then pick "Beautify" as the camera in the app
# (PipeWire instead: replace the sink with  pipewiresink  from gstreamer1.0-pipewire.)
# usage: virtual-camera.sh [beautify properties...]; BEAUTIFY_CAMERA / BEAUTIFY_LOOPBACK pick the devices,
# BEAUTIFY_SRC / BEAUTIFY_SINK replace source and sink (used by the smoke test).
set -eu
src=${BEAUTIFY_SRC:-"v4l2src device=${BEAUTIFY_CAMERA:-/dev/video0}"}
sink=${BEAUTIFY_SINK:-"v4l2sink device=${BEAUTIFY_LOOPBACK:-/dev/video10} sync=false"}
# YUY2 is what most call apps accept from a loopback device.
exec gst-launch-1.0 $src ! videoconvert ! beautify "$@" ! videoconvert ! video/x-raw,format=YUY2 ! $sink
