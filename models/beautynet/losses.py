"""Losses that need no downloaded weights: pixel, SSIM, gradient, texture statistics, and the frozen-segmenter
discriminator loss."""
import torch
import torch.nn.functional as F

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


def masked_mean(v, m):
    return (v * m).sum() / m.sum().clamp(min=1.0) / (v.shape[1] / m.shape[1])


def texture_stats(y, t, m):
    """Local high-frequency energy (LoG^2 averaged over ~5 px) of output vs target, log ratio, inside m: penalises
    both plastic skin (energy lost) and added noise (energy gained)."""
    ey = gauss_blur(log_filter(luma(y)) ** 2, 2.0)
    et = gauss_blur(log_filter(luma(t)) ** 2, 2.0)
    return masked_mean((torch.log(ey + 1e-5) - torch.log(et + 1e-5)).abs(), m)


def beauty_loss(y, t, bm, skin):
    """y: composed output, t: target, bm: blemish mask, skin: skin mask; all at the same size. Returns (total, parts)."""
    w = 1 + 8 * bm
    pix = (w * (y - t).abs()).mean()
    ssim = 1 - ssim_map(luma(y), luma(t)).mean()
    gy, gt = grads(y), grads(t)
    grad = sum((a - b).abs().mean() for a, b in zip(gy, gt))
    tex = texture_stats(y, t, (skin > 0.5).float() * (1 - bm))
    total = pix + 0.5 * ssim + 0.5 * grad + 0.02 * tex
    return total, dict(pix=pix.item(), ssim=ssim.item(), grad=grad.item(), tex=tex.item())


def disc_loss(seg, y, skin):
    """The frozen blemish segmenter scores the output against an all-zero mask (inside the skin)."""
    logit = seg(y)
    bce = F.binary_cross_entropy_with_logits(logit, torch.zeros_like(logit), reduction="none")
    return masked_mean(bce, (skin > 0.3).float())


def seg_loss(logit, bm, skin):
    """Segmenter training: BCE + soft Dice on the synthetic blemish masks, inside the skin (outside is don't-care)."""
    m = (skin > 0.1).float()
    bce = masked_mean(F.binary_cross_entropy_with_logits(logit, bm, reduction="none", pos_weight=torch.tensor(3.0,
                      device=bm.device)), m)
    p = torch.sigmoid(logit) * m
    dice = 1 - (2 * (p * bm).sum() + 1) / (p.sum() + (bm * m).sum() + 1)
    return bce + dice
