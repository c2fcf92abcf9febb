#!/usr/bin/env python3
"""Which failed tests of a meson run failed only because LeakSanitizer's own tracer crashed at exit.

LSan stops the world at process exit with a tracer thread that reads every thread's stack and registers; on some
kernels and under load that tracer itself sometimes dies ("Tracer caught signal 11 ... LeakSanitizer has encountered
a fatal error") after every test of the binary passed. It is a known, intermittent runtime failure
(google/sanitizers #1353), not a leak: no leak is reported and nothing about the program is learned. scripts/sanitize
reruns such tests once; a second crash, a real leak report or any other failure still fails the run.

Usage: lsan_tracer_crash.py TESTLOG.json  — prints the names of the failed tests to rerun, one per line, and exits 0
only if every failed test is such a crash (exit 1 otherwise, printing nothing)."""
import json
import sys

CRASH = "LeakSanitizer has encountered a fatal error"
# What would make the failure real whatever else the log says.
REAL = ("ERROR: LeakSanitizer: detected memory leaks", "ERROR: AddressSanitizer", "runtime error:", "[  FAILED  ]")


def main(path):
    failed = []
    with open(path) as f:
        for line in f:
            t = json.loads(line)
            if t.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
                continue
            failed.append(t)
    if not failed:
        return 1
    for t in failed:
        log = (t.get("stdout") or "") + (t.get("stderr") or "")
        if CRASH not in log or any(r in log for r in REAL):
            return 1
    print("\n".join(t["name"] for t in failed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
