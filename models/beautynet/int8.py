"""The engine's int8 arithmetic (engine/int8_quant.cpp; x86/conv_avx512vnni.cpp) on the Python side, in
one place: which convs run in int8, the per-channel input maxima measured on face crops (calibration), the weight
grid those maxima imply, and the same rounding as differentiable fake quantisation for quantisation-aware
fine-tuning (train.py --qat) and for measuring int8 in scripts/eval (evaluate.py --int8).

The engine's rule, per int8 conv: input u8 = clamp(round(x / x_step), 0, 255) per input channel, x_step = max / 255;
weights w' = w * x_step, s8 = clamp(round(w' / step), -127, 127) with step = max |w'| / 127 per output channel; the
sum of u8 * s8 in int32 times step, plus the bias in fp32. Weights already on that grid come back unchanged, so a
net trained with them on it runs in int8 with activation rounding as its only error."""
import numpy as np
import torch

from . import arch, synth
from .arch import CONV, UPSAMPLE

SEED = 20261204
BATCHES, BATCH = 24, 16  # 384 augmented crops


def int8_eligible(layers):
    """Per conv (file order): whether the engine runs it in int8 when calibrated (kernels.h, int8_applies): every
    tensor its input resolves to (through upsamples and concats) is a ReLU conv's output."""
    def relu_sources(t):
        if t == 0:
            return False
        l = layers[t - 1]
        if l.op == CONV:
            return l.act == arch.ACT_RELU
        return relu_sources(l.a) and (l.op == UPSAMPLE or relu_sources(l.b))
    return [relu_sources(l.a) for l in layers if l.op == CONV]


@torch.no_grad()
def calibration_inputs(tier, data, batches=BATCHES, batch=BATCH, seed=SEED, dev="cpu"):
    """The calibration crops, batch by batch, as the net's normalised input at the tier's size: augmented crops of the
    data's faces (synth.make_batch, strong augmentation: exposure, white balance, skin tones, uneven light, noise,
    JPEG, synthetic blemishes). The engine benchmark calibrates the peers' int8 on the same crops."""
    g = torch.Generator(device=dev).manual_seed(seed)
    n = data["img"].shape[0]
    for _ in range(batches):
        idx = torch.randint(0, n, (batch,), generator=g, device=dev)
        b = synth.make_batch(data, idx, g, (tier.height, tier.width), strong=True)
        yield b["x"] * (255.0 * arch.INPUT_SCALE) + arch.INPUT_BIAS


@torch.no_grad()
def calibrate(net, data, batches=BATCHES, batch=BATCH, seed=SEED, quantile=1.0):
    """Per conv of a deploy-form net (file order) the per-channel maximum (or `quantile` of the values above 0) of its
    input over the calibration crops (calibration_inputs), None for the convs int8 does not apply to."""
    t = net.tier
    dev = next(net.parameters()).device
    maxima = [None] * len(net.convs)
    gq = torch.Generator().manual_seed(seed)

    def hook(i):
        def f(_mod, inp):
            x = inp[0].detach().transpose(0, 1).reshape(inp[0].shape[1], -1)
            if quantile < 1.0:
                keep = x[:, torch.randperm(x.shape[1], generator=gq)[:200000].to(dev)]
                m = torch.stack([torch.quantile(c[c > 0], quantile) if (c > 0).any() else c.max() for c in keep])
            else:
                m = x.amax(dim=1)
            m = m.double().cpu().numpy()
            maxima[i] = m if maxima[i] is None else np.maximum(maxima[i], m)
        return f

    saved, net.int8 = net.int8, None  # measure the float activations
    handles = [c.register_forward_pre_hook(hook(i)) for i, c in enumerate(net.convs)]
    try:
        for x in calibration_inputs(t, data, batches, batch, seed, dev):
            net(x)
    finally:
        for h in handles:
            h.remove()
        net.int8 = saved
    return [np.maximum(m, 0.0).astype(np.float32) if ok else None
            for m, ok in zip(maxima, int8_eligible(t.layers))]


def snap_weights(weights, maxima):
    """The weights on the engine's int8 grid (numpy, float32 as there); the engine's own quantisation of the result
    gives the same integers back, so int8 runs these weights exactly."""
    out = []
    for (w, b), m in zip(weights, maxima):
        if m is None:
            out.append((w, b))
            continue
        w = w.astype(np.float32)
        xs = (m.astype(np.float32) / np.float32(255))[None, :, None, None]
        wp = w * xs
        step = np.abs(wp).max(axis=(1, 2, 3), keepdims=True) / np.float32(127)
        q = np.clip(np.rint(np.divide(wp, step, out=np.zeros_like(wp), where=step > 0)), -127, 127)
        snapped = np.divide(q * step, xs, out=np.zeros_like(w), where=xs > 0)
        out.append((snapped.astype(np.float32), b))
    return out


def fake_quant_input(x, maxima):
    """x [N,C,H,W] as the engine's u8 input sees it (values outside 0..max saturate), with a straight-through
    gradient inside the range and none outside it; dead channels (max 0) read as 0."""
    xs = (maxima / 255.0).reshape(1, -1, 1, 1)
    live = xs > 0
    safe = torch.where(live, xs, torch.ones_like(xs))
    xc = torch.minimum(x.clamp(min=0), 255.0 * xs)
    q = torch.round(xc / safe) * safe * live
    return xc + (q - xc).detach()


def fake_quant_weights(w, maxima):
    """w [O,I,3,3] on the int8 grid of its input's maxima (snap_weights in torch), straight-through gradient."""
    xs = (maxima / 255.0).reshape(1, -1, 1, 1)
    live = xs > 0
    safe = torch.where(live, xs, torch.ones_like(xs))
    wp = w * xs
    step = (wp.abs().amax(dim=(1, 2, 3), keepdim=True) / 127.0).detach()
    q = torch.round(wp / step.clamp(min=1e-30)).clamp(-127, 127) * step / safe * live
    return w + (q - w).detach()


def on_grid(weights, maxima):
    """Whether every calibrated conv's weights are their int8 values to within 1e-3 of a step (the engine's
    int8_weights_on_grid, which decides whether precision=auto may take int8)."""
    for (w, _), m in zip(weights, maxima):
        if m is None:
            continue
        xs = (m.astype(np.float32) / np.float32(255))[None, :, None, None]
        wp = w.astype(np.float32) * xs
        step = np.abs(wp).max(axis=(1, 2, 3), keepdims=True) / np.float32(127)
        q = np.divide(wp, step, out=np.zeros_like(wp), where=step > 0)
        if np.abs(q - np.rint(q)).max() > 1e-3 or np.any(w[:, m == 0] != 0):
            return False
    return True
