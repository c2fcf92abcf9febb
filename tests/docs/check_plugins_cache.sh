#!/bin/sh
# docs/gst_plugins_cache.json must be what the built plugin says (properties, defaults, ranges, flags, caps, enums):
# regenerated from the registry (GST_PLUGIN_PATH = the build) and compared. On a difference: scripts/plugins-cache.
# usage: check_plugins_cache.sh GENERATOR.py DOCS_CACHE.json
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GST_REGISTRY_1_0="$tmp/registry.bin" /usr/bin/python3 "$1" "$tmp/cache.json"
if ! diff -u "$2" "$tmp/cache.json"; then
  echo "docs/gst_plugins_cache.json differs from the built plugin (above): run scripts/plugins-cache and commit it"
  exit 1
fi
echo "docs/gst_plugins_cache.json matches the built plugin"
