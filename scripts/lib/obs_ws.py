#!/usr/bin/python3
"""Drives a running OBS through obs-websocket 5 (built into OBS 29) for scripts/obs-screenshot: adds the project's
face clip as a media source, puts the Beautify filter on it and opens the source's filters dialog (where OBS shows
the selected filter's properties next to its preview).

usage: obs_ws.py CLIP [PORT]"""
import json
import sys
import time

import websocket


def main():
    clip, port = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 4455
    for _ in range(120):  # OBS takes a while to start under Xvfb with llvmpipe
        try:
            ws = websocket.create_connection(f"ws://127.0.0.1:{port}", timeout=30)
            break
        except OSError:
            time.sleep(0.5)
    else:
        sys.exit("obs-websocket did not answer")
    hello = json.loads(ws.recv())
    ws.send(json.dumps({"op": 1, "d": {"rpcVersion": hello["d"]["rpcVersion"]}}))
    json.loads(ws.recv())  # Identified
    n = [0]

    def call(kind, **data):
        n[0] += 1
        ws.send(json.dumps({"op": 6, "d": {"requestType": kind, "requestId": str(n[0]), "requestData": data}}))
        while True:
            msg = json.loads(ws.recv())
            if msg["op"] == 7 and msg["d"]["requestId"] == str(n[0]):
                st = msg["d"]["requestStatus"]
                if not st["result"]:
                    sys.exit(f"{kind} failed: {st}")
                return msg["d"].get("responseData", {})

    scene = call("GetCurrentProgramScene")["currentProgramSceneName"]
    call("CreateInput", sceneName=scene, inputName="Face clip", inputKind="ffmpeg_source",
         inputSettings={"local_file": clip, "looping": True, "is_local_file": True})
    call("CreateSourceFilter", sourceName="Face clip", filterName="Beautify", filterKind="beautify_filter",
         filterSettings={"strength": 0.8, "tier": "s"})
    time.sleep(8)  # the filter's core loads in the background; the dialog shows its status
    call("OpenInputFiltersDialog", inputName="Face clip")
    print("filters dialog opened")


if __name__ == "__main__":
    main()
