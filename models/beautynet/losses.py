"""Losses that need no downloaded weights: pixel (per-instance weighted), SSIM, gradient, texture statistics,
mean colour of clean skin, tone, alpha, and the frozen-segmenter discriminator loss (ablation)."""
import torch
import torch.nn.functional as F

from . import arch, synth
from .synth import gauss_blur


def luma(x):
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def ssim_map(a, b, sigma=1.5):
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    ma, mb = gauss_blur(a, sigma), gauss_blur(b, sigma)
    va = gauss_blur(a * a, sigma) - ma * ma
    vb = gauss_blur(b * b, sigma) - mb * mb
    cov = gauss_blur(a * b, sigma) - ma * mb
    return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))


def grads(x):
    return x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]


_LOG = None


def log_filter(x, sigma=1.0):
    """Laplacian of Gaussian (sigma ~1 px): the high band that carries pores and fine texture."""
    g = gauss_blur(x, sigma)
    k = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=x.dtype, device=x.device)[None, None]
    return F.conv2d(F.pad(g, [1, 1, 1, 1], mode="reflect"), k.expand(x.shape[1], 1, 3, 3), groups=x.shape[1])


def chroma(x):
    """Two colour-difference components (B - Y, R - Y): what is left of a blemish's colour when its luma is fixed
    (a red papule turned grey-green keeps them)."""
    y = luma(x)
    return torch.cat([x[:, 2:3] - y, x[:, 0:1] - y], 1)


# sRGB (D65) to CIE XYZ, rows X, Y, Z, each divided by the white point's (so white is 1, 1, 1).
_XYZ = ((0.412453 / 0.950456, 0.357580 / 0.950456, 0.180423 / 0.950456),
        (0.212671, 0.715160, 0.072169),
        (0.019334 / 1.088754, 0.119193 / 1.088754, 0.950227 / 1.088754))


def lab(x):
    """CIE L*a*b* of sRGB x in [0, 1] (differentiable; as OpenCV's float conversion, which scripts/eval's ΔE uses)."""
    lin = torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)
    m = torch.tensor(_XYZ, dtype=x.dtype, device=x.device)
    xyz = torch.einsum("ij,bjhw->bihw", m, lin)
    f = torch.where(xyz > 0.008856, xyz.clamp(min=0.008856) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.cat([116 * f[:, 1:2] - 16, 500 * (f[:, 0:1] - f[:, 1:2]), 200 * (f[:, 1:2] - f[:, 2:3])], 1)


def delta_e(a, b):
    """CIE76 ΔE per pixel [B,1,H,W] of two sRGB images."""
    return (lab(a) - lab(b)).norm(dim=1, keepdim=True)


def masked_mean(v, m):
    return (v * m).sum() / m.sum().clamp(min=1.0) / (v.shape[1] / m.shape[1])


def texture_stats(y, t, m):
    """Local high-frequency energy (LoG^2 averaged over ~5 px) of output vs target, log ratio, inside m: penalises
    both plastic skin (energy lost) and added noise (energy gained)."""
    ey = gauss_blur(log_filter(luma(y)) ** 2, 2.0)
    et = gauss_blur(log_filter(luma(t)) ** 2, 2.0)
    return masked_mean((torch.log(ey + 1e-5) - torch.log(et + 1e-5)).abs(), m)


def charbonnier(d, eps=1e-3):
    return torch.sqrt(d * d + eps * eps) - eps


def clean_skin(skin, bm):
    """Blemish-free skin: skin > 0.5 with the blemish mask dilated by 2 px removed."""
    return (skin > 0.5).float() * (1 - F.max_pool2d(bm, 5, 1, 2))


# Weights of the blemish-only pixel term, of its chroma part (the shipped runs 6/7) and of the clean-skin mean-colour
# penalty; train.py takes its defaults here.
W_BLEM, W_CHROMA, W_MEAN = 6.0, 2.0, 10.0
W_MEAN_TONE = 0.0  # the same penalty on blemish + tone (--w-mean-tone; docs/training.md runs 21 and 29)
# The blemish term's space: "rgb" (RGB Charbonnier plus w_chroma x the chroma's) or "lab" (Charbonnier of the CIE76
# ΔE that scripts/eval measures, divided by LAB_SCALE: the ΔE of the synthetic blemishes is ~LAB_SCALE times their
# RGB + chroma error, measured on training batches, so the term starts as strong as the RGB one at the same w_blem).
BLEM_SPACE, LAB_SCALE = "rgb", 90.0


def blemish_term(y, t, w, space=BLEM_SPACE, w_chroma=W_CHROMA):
    """The blemish-only pixel error: every instance weighted about equally (w), normalised by the masks' weight."""
    wsum = w.sum().clamp(min=1.0 / 3)
    if space == "lab":
        e = charbonnier(delta_e(y, t), 0.1)
        return (w * e).sum() / wsum / LAB_SCALE
    e = charbonnier(y - t)
    ec = charbonnier(chroma(y - t))
    return (w * e).sum() / (3 * wsum) + w_chroma * (w * ec).sum() / (2 * wsum)


def beauty_loss(x, out_layers, b, w_blem=W_BLEM, w_chroma=W_CHROMA, w_mean=W_MEAN, w_mean_tone=W_MEAN_TONE, w_tone=0.5,
                w_alpha=0.05, blem_space=BLEM_SPACE):
    """x: input, out_layers: nets.layers(raw output), b: the batch (t, tone, bm, w, skin). Returns (total, parts).
    - blemish output vs B: Charbonnier over the whole crop plus, with weight w_blem, Charbonnier over the blemish
      masks alone with every instance weighted about equally (b["w"]); normalised by the masks' weight, not the
      crop's area, so the push to remove does not shrink with the blemishes' share of the crop (a sum over the
      whole crop made a few-percent mask share count little against "leave the skin alone"); with weight
      w_blem x w_chroma the same over the chroma of the error alone (RGB Charbonnier let the nets fix a spot's
      lightness and leave its colour: grey-green ghosts, 0.55 of the input's chroma error left at w_chroma 0);
      with blem_space "lab" the blemish term is the ΔE scripts/eval measures instead (blemish_term);
      SSIM and gradients of luma, texture statistics in clean skin;
    - mean-colour penalty: per image and channel, the mean of (output - B) over clean skin must be 0 (a uniform
      lift of the skin is not retouching: it replaces the old post-hoc bias calibration); with weight w_mean_tone
      the same for blemish + tone vs the tone target (the tone layer lifted clean skin by 1-1.7/255, run 21);
    - tone output on top: Charbonnier and gradients vs the tone target;
    - alpha: BCE vs the blemish mask (where the frame-resolution step may act)."""
    db, dt, alpha = out_layers
    skin, bm = b["skin"], b["bm"]
    y = (x + skin * db).clamp(0, 1)
    t = b["t"]
    pix = charbonnier(y - t).mean() + w_blem * blemish_term(y, t, b["w"], blem_space, w_chroma)
    ssim = 1 - ssim_map(luma(y), luma(t)).mean()
    gy, gt = grads(y), grads(t)
    grad = sum((a - c).abs().mean() for a, c in zip(gy, gt))
    cs = clean_skin(skin, bm)
    tex = texture_stats(y, t, cs)
    n = cs.sum((2, 3)).clamp(min=1)
    mean_off = (((y - t) * cs).sum((2, 3)) / n).abs().mean()
    yt = (y + skin * dt).clamp(0, 1)
    tone = charbonnier(yt - b["tone"]).mean() + 0.5 * sum((a - c).abs().mean() for a, c in zip(grads(yt), grads(b["tone"])))
    mean_tone = (((yt - b["tone"]) * cs).sum((2, 3)) / n).abs().mean()
    m = (skin > 0.1).float()
    logit = torch.logit(alpha.clamp(1e-4, 1 - 1e-4))
    al = masked_mean(F.binary_cross_entropy_with_logits(logit, bm, reduction="none"), m)
    total = (pix + 0.5 * ssim + 0.5 * grad + 0.02 * tex + w_mean * mean_off + w_mean_tone * mean_tone + w_tone * tone
             + w_alpha * al)
    parts = dict(pix=pix.item(), ssim=ssim.item(), grad=grad.item(), tex=tex.item(), mean=mean_off.item(),
                 tone=tone.item(), alpha=al.item())
    if w_mean_tone > 0:  # logged only when it is trained (the smoke test checks that --w-mean-tone reaches it)
        parts["mean_tone"] = mean_tone.item()
    return total, parts, y


# Weight of the temporal-consistency term (temporal_loss) on synthetic second views (a move and a camera draw: it
# shrank the layer and raised the clips' flicker) and on real consecutive video frames (train.py --w-temp-video 60
# was the shipped M's fine-tune, docs/training.md run 28; off by default: a from-scratch run and S/L with it are
# untested), and of the tone layer inside it (the element's default `tone` strength: the layer a viewer sees is
# blemish + 0.5 x tone).
W_TEMP, W_TEMP_VIDEO, TEMP_TONE = 0.0, 0.0, 0.5


def temporal_loss(out1, out2, b):
    """Flicker in training: the retouch of a face's second view (b["x2"]: the face moved and seen through another
    camera draw, synth.make_batch, or the next video frame, synth.make_pair_batch) must be the first view's retouch
    carried along (synth.warp with b["back"]; docs/temporal.md: the net's small corrections on clean skin followed
    camera noise). Charbonnier of the two layers' difference, mean over b["m2"] (skin where the move holds).
    Absolute on purpose: the relative form (scripts/eval-temporal's own ratio) was gamed by inflating the steady
    tone layer (docs/training.md, run 27)."""
    d = 0
    for k, wk in ((0, 1.0), (1, TEMP_TONE)):
        d = d + wk * masked_mean(charbonnier(out2[k] - synth.warp(out1[k], b["back"])), b["m2"])
    return d


# Weight of the distillation term in quantisation-aware fine-tuning (train.py --qat): against the task loss alone,
# the quantised nets kept removal but drifted on clean skin (docs/training.md, "int8").
W_DISTILL = 5.0
# ... and of its temporal twin: the change of the output between a sample's two views (moved, new camera noise) vs
# the teacher's change (the distilled nets matched the output but flickered 1-5 points more on the real clips).
W_DISTILL_TEMP = 0.0


def distill_loss(raw, ref):
    """The quantised net's raw head output against its float teacher's, Charbonnier in 8-bit code values of the
    retouch layers (arch.OUTPUT_SCALE per unit of the tanh output; the alpha map counts the same)."""
    return charbonnier((raw - ref) * arch.OUTPUT_SCALE, 0.05).mean()


def disc_loss(seg, y, skin, bm):
    """The frozen blemish segmenter scores the output against an all-zero mask, only inside the blemish masks
    dilated by ~4 px (on clean skin it fires on ~13 % of pixels, and an all-zero target there would push the net
    to alter clean skin)."""
    logit = seg(y)
    bce = F.binary_cross_entropy_with_logits(logit, torch.zeros_like(logit), reduction="none")
    return masked_mean(bce, (skin > 0.3).float() * F.max_pool2d(bm, 9, 1, 4))


def seg_loss(logit, bm, skin):
    """Segmenter training: BCE + soft Dice on the synthetic blemish masks, inside the skin (outside is don't-care)."""
    m = (skin > 0.1).float()
    bce = masked_mean(F.binary_cross_entropy_with_logits(logit, bm, reduction="none", pos_weight=torch.tensor(3.0,
                      device=bm.device)), m)
    p = torch.sigmoid(logit) * m
    dice = 1 - (2 * (p * bm).sum() + 1) / (p.sum() + (bm * m).sum() + 1)
    return bce + dice
