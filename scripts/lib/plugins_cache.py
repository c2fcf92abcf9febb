#!/usr/bin/python3
"""Writes the beautify plugin's entry of gst_plugins_cache.json, in the shape GStreamer's own plugins keep in
docs/plugins/gst_plugins_cache.json (written there by gst-hotdoc-plugins-scanner, which Debian 12 does not ship):
plugin fields, each element's metadata, pad templates (caps one field a line), properties with their flags,
defaults and ranges, and the enums the properties use. Read from the registry (GST_PLUGIN_PATH decides which
build), so the file follows the code; tests/docs compares it with docs/gst_plugins_cache.json.

usage: plugins_cache.py OUT.json"""
import json
import re
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402


def split_fields(text):
    """A structure's to_string() split at its top-level commas (lists and ranges nest in {} and [])."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch in "{[<(" and 1 or ch in "}]>)" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip().rstrip(";"))
    return parts


def caps_text(caps):
    """One structure a block, one field a line, names right-aligned, values without their type tags, as upstream's
    cache has them (PyGObject cannot hand over GstValueList values, so the fields come from the string form)."""
    out = []
    for i in range(caps.get_size()):
        name, *fields = split_fields(caps.get_structure(i).to_string())
        lines = [name + ":"]
        for f in fields:
            key, value = f.split("=", 1)
            lines.append("%15s: %s" % (key, re.sub(r"\((?:string|int|fraction|boolean|double)\)", "", value)))
        out.append("\n".join(lines) + "\n")
    return "".join(out)


def mutable(flags):
    for flag, name in ((Gst.PARAM_MUTABLE_PLAYING, "playing"), (Gst.PARAM_MUTABLE_PAUSED, "paused"),
                       (Gst.PARAM_MUTABLE_READY, "ready")):
        if flags & flag:
            return name
    return "null"


def num(v):
    return "%d" % v if isinstance(v, int) else "%g" % v


def prop_entry(spec, other_types):
    f = int(spec.flags)
    e = {
        "blurb": spec.blurb,
        "conditionally-available": bool(f & Gst.PARAM_CONDITIONALLY_AVAILABLE),
        "construct": bool(f & GObject.ParamFlags.CONSTRUCT),
        "construct-only": bool(f & GObject.ParamFlags.CONSTRUCT_ONLY),
        "controllable": bool(f & Gst.PARAM_CONTROLLABLE),
        "mutable": mutable(f),
        "readable": bool(f & GObject.ParamFlags.READABLE),
        "type": spec.value_type.name,
        "writable": bool(f & GObject.ParamFlags.WRITABLE),
    }
    d = spec.default_value
    if spec.value_type.is_a(GObject.TYPE_ENUM):
        values = [{"desc": v.value_name, "name": v.value_nick, "value": str(int(v))}
                  for v in sorted(type(d).__enum_values__.values(), key=int)]
        other_types[spec.value_type.name] = {"kind": "enum", "values": values}
        e["default"] = "%s (%d)" % (d.value_nick, int(d))
    elif spec.value_type == GObject.TYPE_BOOLEAN:
        e["default"] = "true" if d else "false"
    elif spec.value_type == GObject.TYPE_STRING:
        e["default"] = d if d is not None else "NULL"
    elif hasattr(spec, "minimum"):
        e["default"], e["min"], e["max"] = num(d), num(spec.minimum), num(spec.maximum)
    return dict(sorted(e.items()))


def main():
    Gst.init(None)
    plugin = Gst.Registry.get().find_plugin("beautify")
    if plugin is None:
        sys.exit("the beautify plugin is not in the registry: set GST_PLUGIN_PATH to the build's gst/ directory")
    plugin = plugin.load()
    other_types, elements = {}, {}
    for feat in Gst.Registry.get().get_feature_list_by_plugin("beautify"):
        if not isinstance(feat, Gst.ElementFactory):
            continue
        factory = feat.load()
        el = factory.create(None)
        gtype = type(el).__gtype__
        hierarchy = []
        while gtype.name != "GObject":
            hierarchy.append(gtype.name)
            gtype = gtype.parent
        hierarchy.append("GObject")
        props = {}
        for spec in el.list_properties():
            if spec.owner_type.name in ("GstObject", "GstElement", "GstBaseTransform", "GstVideoFilter"):
                continue  # upstream lists each class's own properties; base classes have their own entries
            props[spec.name] = prop_entry(spec, other_types)
        pads = {}
        for t in factory.get_static_pad_templates():
            pads[t.name_template] = {
                "caps": caps_text(t.get_caps()),
                "direction": t.direction.value_nick,
                "presence": t.presence.value_nick,
            }
        elements[factory.get_name()] = {
            "author": factory.get_metadata("author"),
            "description": factory.get_metadata("description"),
            "hierarchy": hierarchy,
            "klass": factory.get_metadata("klass"),
            "long-name": factory.get_metadata("long-name"),
            "pad-templates": dict(sorted(pads.items())),
            "properties": dict(sorted(props.items())),
            "rank": Gst.Rank(factory.get_rank()).value_nick,
        }
    cache = {
        plugin.get_name(): {
            "description": plugin.get_description(),
            "elements": elements,
            "filename": re.sub(r"^lib", "", plugin.get_filename().rsplit("/", 1)[-1].rsplit(".", 1)[0]),
            "license": plugin.get_license(),
            "other-types": dict(sorted(other_types.items())),
            "package": plugin.get_package(),
            "source": plugin.get_source(),
            "tracers": {},
            "url": plugin.get_origin(),
        }
    }
    with open(sys.argv[1], "w") as f:
        json.dump(cache, f, indent=4, sort_keys=True, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
