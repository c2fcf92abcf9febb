#!/usr/bin/python3
"""Prints a PipeWire node's id, class and output ports from `pw-dump` JSON; exits 1 while it has no output port.

usage: pw_node.py PW-DUMP.json NODE_NAME"""
import json
import sys

objs = json.load(open(sys.argv[1]))
nodes = [o for o in objs if o.get("type", "").endswith(":Node")
         and (o.get("info") or {}).get("props", {}).get("node.name") == sys.argv[2]]
if not nodes:
    sys.exit(1)
node = nodes[0]
ports = [o for o in objs if o.get("type", "").endswith(":Port")
         and (o.get("info") or {}).get("props", {}).get("node.id") == node["id"]
         and o["info"].get("direction") == "output"]
if not ports:
    sys.exit(1)
p = node["info"]["props"]
print(f"node: id {node['id']}, {p.get('media.class')}, media.type {p.get('media.type')}, "
      f"{len(ports)} output port(s), state {node['info'].get('state')}")
