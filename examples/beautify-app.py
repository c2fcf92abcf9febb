#!/usr/bin/python3
"""Embedding beautify from Python (PyGObject, Debian python3-gi + gir1.2-gstreamer-1.0): builds a pipeline and
changes `strength` live while it plays, printing the faces from the element's messages.

    examples/beautify-app.py                                   # webcam -> window
    examples/beautify-app.py "videotestsrc num-buffers=90" fakesink
"""
import math
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main():
    Gst.init(None)
    src = sys.argv[1] if len(sys.argv) > 1 else "v4l2src"
    sink = sys.argv[2] if len(sys.argv) > 2 else "autovideosink"
    pipeline = Gst.parse_launch(
        f"{src} ! videoconvert ! beautify name=fx post-messages=true ! videoconvert ! {sink}")
    fx = pipeline.get_by_name("fx")
    loop = GLib.MainLoop()
    state = {"tick": 0, "status": 0, "faces": -1}

    def sweep():
        state["tick"] += 1
        fx.set_property("strength", 0.5 - 0.5 * math.cos(state["tick"] * 0.2))
        return True

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            print(f"error: {err.message}\n{dbg}", file=sys.stderr)
            state["status"] = 1
            loop.quit()
        elif msg.type == Gst.MessageType.EOS:
            loop.quit()
        elif msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "beautify":
            n = msg.get_structure().get_int("n-faces")[1]
            if n != state["faces"]:  # print the face count when it changes
                state["faces"] = n
                print(f"faces {n}, strength {fx.get_property('strength'):.2f}", flush=True)

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    timer = GLib.timeout_add(50, sweep)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        msg = bus.pop_filtered(Gst.MessageType.ERROR)
        if msg:
            on_message(bus, msg)
        state["status"] = 1
    else:
        loop.run()
    GLib.source_remove(timer)
    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return state["status"]


if __name__ == "__main__":
    sys.exit(main())
