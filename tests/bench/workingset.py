"""Intermediate feature-map bytes a layer-by-layer executor holds at its peak, computed from the graph.

The comparison for the peers (which run layer by layer on whole feature maps) and a check on our layered
executor's own figure. A tensor lives from the layer that writes it until its last reader has run; at each layer the
live set is everything written and still to be read, plus that layer's output. The net input and the head's output
are not intermediates and are left out. Two variants:
- materialised: upsample and concat outputs are real tensors (what ONNX Runtime, OpenVINO, ncnn, OpenCV DNN do
  unless they fuse them);
- folded: upsample/concat are read through by the consuming conv (as our engine does), so they cost nothing but keep
  their sources alive until that conv has run.
"""
from bmodel_reader import CONCAT, UPSAMPLE


def live_bytes(model, width=None, height=None, folded=False, dtype_bytes=4):
    ch, sz = model.channels(), model.sizes(width, height)
    n = len(model.layers)
    nbytes = [ch[t] * sz[t][0] * sz[t][1] * dtype_bytes for t in range(n + 1)]
    virtual = [False] * (n + 1)
    if folded:
        for i, l in enumerate(model.layers):
            virtual[i + 1] = l.op in (UPSAMPLE, CONCAT)
    users = model.consumers()

    def last_use(t):
        end = t - 1  # written by layer t-1; alive at least while that layer runs
        for u in users[t]:
            end = max(end, last_use(u + 1) if virtual[u + 1] else u)
        return end

    last = [last_use(t) for t in range(n + 1)]
    peak = 0
    for i in range(n):  # layer i runs, writes tensor i+1
        live = 0
        for t in range(1, n):  # intermediates only: not the input (0), not the head output (n)
            if virtual[t]:
                continue
            born = t - 1  # the layer index that writes it
            if born <= i <= last[t]:
                live += nbytes[t]
        peak = max(peak, live)
    return peak
