#!/bin/sh
# gst-inspect-1.0 finds the plugin (GST_PLUGIN_PATH) and lists every property of the element.
set -eu
out=$(gst-inspect-1.0 beautify)
for p in strength blemish tone temporal-smoothing tier model landmark-model max-faces min-face-size detect-interval \
         threads draw-faces post-messages synchronous-detection device; do
  echo "$out" | grep -Eq "^  $p *:" || { echo "property $p missing from gst-inspect-1.0 beautify"; exit 1; }
done
for p in strength blemish tone temporal-smoothing; do  # each one's flags line says controllable
  echo "$out" | grep -A3 -E "^  $p *:" | grep -q "controllable" || { echo "$p is not controllable"; exit 1; }
done
echo "gst-inspect-1.0 beautify: ok"
