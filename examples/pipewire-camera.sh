#!/bin/sh
# A beautified camera on PipeWire, no kernel module: publishes a "Beautify" Video/Source node that apps which take
# cameras from PipeWire can pick (OBS's "Video Capture Device (PipeWire)", browsers with PipeWire camera support,
# any `pipewiresrc target-object=beautify-camera`). Needs gstreamer1.0-pipewire and a running PipeWire session
# (Debian 12 desktops have one). scripts/check-pipewire runs this and opens the node from a second client.
# usage: pipewire-camera.sh [beautify properties...]; BEAUTIFY_CAMERA picks the camera, BEAUTIFY_SRC replaces the
# source.
set -eu
src=${BEAUTIFY_SRC:-"v4l2src device=${BEAUTIFY_CAMERA:-/dev/video0}"}
# media.type: WirePlumber links a camera app's stream only to nodes that state it.
exec gst-launch-1.0 $src ! videoconvert ! beautify "$@" ! videoconvert ! \
  pipewiresink mode=provide client-name=beautify-camera \
  stream-properties="props,node.name=beautify-camera,node.description=Beautify,media.class=Video/Source,media.type=Video,media.category=Capture,media.role=Camera"
