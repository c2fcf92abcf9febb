"""Training pairs on the fly, batched in torch (GPU or CPU): augmentation, synthetic blemishes with exact masks,
and the classical retouch that makes the targets. Recipes and constants are explained in docs/training.md.

Face scale: F = jaw width (landmarks 0..16) in output pixels; every blemish size is a fraction of F.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------- filters


def gauss_blur(x, sigma):
    """Separable Gaussian, reflect padding; sigma a float or a per-sample tensor [B] (then one kernel per sample)."""
    if not torch.is_tensor(sigma):
        sigma = torch.full((x.shape[0],), float(sigma), device=x.device)
    smax = float(sigma.max())
    if smax < 0.2:
        return x
    r = max(1, int(math.ceil(3 * smax)))
    r = min(r, (min(x.shape[-2:]) - 1))
    t = torch.arange(-r, r + 1, device=x.device, dtype=x.dtype)
    k = torch.exp(-0.5 * (t[None] / sigma.clamp(min=1e-3)[:, None].to(x.dtype)) ** 2)
    k = k / k.sum(1, keepdim=True)  # [B, K]
    b, c, h, w = x.shape
    y = F.pad(x, [r, r, 0, 0], mode="reflect").reshape(1, b * c, h, w + 2 * r)
    kk = k.repeat_interleave(c, 0)
    y = F.conv2d(y, kk[:, None, None, :], groups=b * c)
    y = F.pad(y.reshape(b, c, h, w), [0, 0, r, r], mode="reflect").reshape(1, b * c, h + 2 * r, w)
    y = F.conv2d(y, kk[:, None, :, None], groups=b * c)
    return y.reshape(b, c, h, w)


def norm_conv(x, m, sigma):
    """Normalised convolution: the mask-weighted local mean of x (values outside m do not bleed in)."""
    return gauss_blur(x * m, sigma) / gauss_blur(m, sigma).clamp(min=1e-4)


def rgb_to_ycc(x):
    r, g, b = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return torch.cat([y, (b - y) * 0.564 + 0.5, (r - y) * 0.713 + 0.5], 1)


def ycc_to_rgb(x):
    y, cb, cr = x[:, 0:1], x[:, 1:2] - 0.5, x[:, 2:3] - 0.5
    r = y + 1.403 * cr
    b = y + 1.773 * cb
    g = (y - 0.299 * r - 0.114 * b) / 0.587
    return torch.cat([r, g, b], 1)


_QL = torch.tensor([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
                    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=torch.float32)
_QC = torch.tensor([17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
                    47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32, dtype=torch.float32)


def _dct_mat(device):
    n = torch.arange(8, dtype=torch.float32, device=device)
    m = torch.cos((2 * n[None] + 1) * n[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    m[0] /= math.sqrt(2)
    return m


def _jpeg_plane(p, q, dct):
    b, _, h, w = p.shape
    blk = p.reshape(b, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4) * 255 - 128
    c = dct @ blk @ dct.T
    c = torch.round(c / q) * q
    blk = dct.T @ c @ dct
    return ((blk + 128) / 255).permute(0, 1, 3, 2, 4).reshape(b, 1, h, w)


def jpeg(x, quality):
    """Baseline JPEG round trip (4:2:0, libjpeg tables) per sample; quality: tensor [B] in 1..100."""
    b, _, h, w = x.shape
    ph, pw = (-h) % 16, (-w) % 16
    xp = F.pad(x, [0, pw, 0, ph], mode="replicate")
    dct = _dct_mat(x.device)
    s = torch.where(quality < 50, 5000 / quality, 200 - 2 * quality)[:, None, None, None, None]
    ql = ((_QL.to(x.device).reshape(1, 1, 1, 8, 8) * s + 50) // 100).clamp(1, 255)
    qc = ((_QC.to(x.device).reshape(1, 1, 1, 8, 8) * s + 50) // 100).clamp(1, 255)
    ycc = rgb_to_ycc(xp)
    y = _jpeg_plane(ycc[:, 0:1], ql, dct)
    ch = F.avg_pool2d(ycc[:, 1:3], 2)
    ch = torch.cat([_jpeg_plane(ch[:, i:i + 1], qc, dct) for i in range(2)], 1)
    ch = F.interpolate(ch, scale_factor=2, mode="bilinear", align_corners=False)
    out = ycc_to_rgb(torch.cat([y, ch], 1))[:, :, :h, :w]
    return out.clamp(0, 1)


# ----------------------------------------------------------------------------------------------- augmentation


def _u(g, n, lo, hi, device):
    return lo + (hi - lo) * torch.rand(n, generator=g, device=device)


def augment(img, skin, feat, pts, g, out_hw, strong=True):
    """img [B,3,H,W] in [0,1], skin/feat [B,1,H,W], pts [B,68,2] (pixels). Random view (scale, shift, rotation,
    flip) resampled to out_hw, then light, colour, blur, noise and JPEG. Returns the clean photo C and the masks."""
    b, dev = img.shape[0], img.device
    H, W = img.shape[-2:]
    oh, ow = out_hw
    z = _u(g, b, 0.78, 1.0, dev) if strong else torch.full((b,), 0.87, device=dev)  # view size / stored crop
    ang = _u(g, b, -0.1, 0.1, dev) if strong else torch.zeros(b, device=dev)
    tx, ty = (_u(g, b, -0.06, 0.06, dev), _u(g, b, -0.06, 0.06, dev)) if strong else (torch.zeros(b, device=dev),) * 2
    flip = (torch.rand(b, generator=g, device=dev) < 0.5) if strong else torch.zeros(b, dtype=torch.bool, device=dev)
    asp = (ow / oh) / (W / H)  # the tier's narrower aspect: cut the sides
    sx = z * asp * torch.where(flip, -1.0, 1.0)
    sy = z
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([sx * cos, -sy * sin * H / W, tx], 1),
                         torch.stack([sx * sin * W / H, sy * cos, ty], 1)], 1)  # out norm -> in norm
    grid = F.affine_grid(theta, (b, 3, oh, ow), align_corners=False)
    c = F.grid_sample(img, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    sk = F.grid_sample(skin, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    ft = F.grid_sample(feat, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # landmarks: in-norm -> out-norm with the inverse of theta's linear part
    pn = torch.stack([(2 * pts[..., 0] + 1) / W - 1, (2 * pts[..., 1] + 1) / H - 1], -1)
    A, t = theta[:, :, :2], theta[:, :, 2]
    on = torch.linalg.solve(A, (pn - t[:, None]).transpose(1, 2)).transpose(1, 2)
    po = torch.stack([((on[..., 0] + 1) * ow - 1) / 2, ((on[..., 1] + 1) * oh - 1) / 2], -1)
    if not strong:
        return c.clamp(0, 1), sk, ft, po
    # light: exposure and gamma; colour: white balance and saturation
    c = c.clamp(1e-4, 1) ** _u(g, b, 0.8, 1.25, dev)[:, None, None, None]
    c = c * _u(g, b, 0.75, 1.2, dev)[:, None, None, None]
    c = c * (1 + torch.randn(b, 3, 1, 1, generator=g, device=dev) * 0.05)
    lum = c.mean(1, keepdim=True)
    c = lum + (c - lum) * _u(g, b, 0.75, 1.2, dev)[:, None, None, None]
    c = c.clamp(0, 1)
    # camera: blur (sometimes), noise (sometimes), JPEG (sometimes)
    blur = torch.where(torch.rand(b, generator=g, device=dev) < 0.3, _u(g, b, 0.3, 1.0, dev), torch.zeros(b, device=dev))
    c = gauss_blur(c, blur) if float(blur.max()) > 0 else c
    ns = torch.where(torch.rand(b, generator=g, device=dev) < 0.5, _u(g, b, 0.0, 0.015, dev), torch.zeros(b, device=dev))
    n = torch.randn(b, 1, oh, ow, generator=g, device=dev) + 0.4 * torch.randn(b, 3, oh, ow, generator=g, device=dev)
    c = (c + n * ns[:, None, None, None]).clamp(0, 1)
    jq = _u(g, b, 45, 95, dev).round()
    use = torch.rand(b, generator=g, device=dev) < 0.4
    if bool(use.any()):
        c = torch.where(use[:, None, None, None], jpeg(c, jq), c)
    return c, sk, ft, po


# ----------------------------------------------------------------------------------------------- blemishes


def face_scale(pts):
    return (pts[:, 16] - pts[:, 0]).norm(dim=-1)  # [B]


def _blobs(h, w, cx, cy, r, dev):
    """cx, cy, r: [B,K] -> [B,K,H,W] Gaussian blobs (r = sigma)."""
    ys = torch.arange(h, device=dev, dtype=torch.float32)[None, None, :, None]
    xs = torch.arange(w, device=dev, dtype=torch.float32)[None, None, None, :]
    d2 = (xs - cx[..., None, None]) ** 2 + (ys - cy[..., None, None]) ** 2
    return torch.exp(-0.5 * d2 / (r[..., None, None] ** 2).clamp(min=0.25))


def _spots(g, skin, fs, k, rlo, rhi, dev):
    """k candidate positions per image sampled where skin is solid; a per-spot on/off picks a random count."""
    b, _, h, w = skin.shape
    prob = (skin[:, 0] > 0.8).float().reshape(b, -1) + 1e-6
    idx = torch.multinomial(prob, k, replacement=True, generator=g)
    cy, cx = (idx // w).float(), (idx % w).float()
    cx = cx + torch.rand(b, k, generator=g, device=dev) - 0.5
    cy = cy + torch.rand(b, k, generator=g, device=dev) - 0.5
    r = fs[:, None] * (rlo + (rhi - rlo) * torch.rand(b, k, generator=g, device=dev))
    on = torch.rand(b, k, generator=g, device=dev) < torch.rand(b, 1, generator=g, device=dev)
    return cx, cy, r, on.float()


def lowfreq_noise(g, b, h, w, cell, dev, ch=1):
    """Smooth random field, unit-ish std, features ~cell pixels (bicubic-upsampled white noise)."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    n = torch.randn(b, ch, gh, gw, generator=g, device=dev)
    return F.interpolate(n, size=(h, w), mode="bicubic", align_corners=False)


BLEMISH_TYPES = ("spots", "acne", "redness", "undereye", "blotchy")


def add_blemishes(c, skin, pts, g, level=1.0, types=BLEMISH_TYPES):
    """Returns X (C with blemishes) and the exact blemish mask: pixels that the blemishes changed by > 3/255 in
    any channel, on skin. Multiplicative tints on the photo keep its own texture under the blemish.
    `types` keeps only some kinds (the random draws are the same whatever it holds: per-type evaluation)."""
    on_ = {k: float(k in types) for k in BLEMISH_TYPES}
    b, _, h, w = c.shape
    dev = c.device
    fs = face_scale(pts)
    sk = skin.clamp(0, 1)
    logt = torch.zeros_like(c)   # log of multiplicative tint, accumulated
    add = torch.zeros_like(c)

    # dark spots / freckle-like marks: brown, sigma 0.4-1.1% of F (1-4 mm on a real face)
    cx, cy, r, on = _spots(g, sk, fs, 14, 0.004, 0.011, dev)
    a = (_blobs(h, w, cx, cy, r, dev) * (on * (0.25 + 0.45 * torch.rand(b, 14, generator=g, device=dev)))[..., None, None]).sum(1, keepdim=True)
    logt += on_["spots"] * torch.log1p(-a.clamp(0, 0.8) * torch.tensor([0.45, 0.6, 0.7], device=dev)[None, :, None, None])

    # red acne: core + halo, sometimes a white-yellow highlight (pustule / specular)
    k = 8
    cx, cy, r, on = _spots(g, sk, fs, k, 0.006, 0.014, dev)
    s = on * (0.4 + 0.5 * torch.rand(b, k, generator=g, device=dev))
    core = (_blobs(h, w, cx, cy, r, dev) * s[..., None, None]).sum(1, keepdim=True).clamp(0, 1)
    halo = (_blobs(h, w, cx, cy, 2.6 * r, dev) * (0.35 * s)[..., None, None]).sum(1, keepdim=True).clamp(0, 1)
    red = (core + halo).clamp(0, 1)
    logt += on_["acne"] * torch.log1p(-red * torch.tensor([0.05, 0.4, 0.35], device=dev)[None, :, None, None])
    hl_on = s * (torch.rand(b, k, generator=g, device=dev) < 0.6).float()
    hl = (_blobs(h, w, cx - 0.3 * r, cy - 0.3 * r, 0.35 * r, dev) * hl_on[..., None, None]).sum(1, keepdim=True)
    add += on_["acne"] * hl.clamp(0, 1) * torch.tensor([0.16, 0.14, 0.1], device=dev)[None, :, None, None]

    # redness patches: large, irregular (blob x smooth noise)
    k = 3
    cx, cy, r, on = _spots(g, sk, fs, k, 0.05, 0.12, dev)
    s = on * (0.15 + 0.3 * torch.rand(b, k, generator=g, device=dev))
    p = (_blobs(h, w, cx, cy, r, dev) * s[..., None, None]).sum(1, keepdim=True)
    p = p * (1 + 0.6 * lowfreq_noise(g, b, h, w, float(fs.mean()) * 0.05, dev)).clamp(0, 2)
    logt += on_["redness"] * torch.log1p(-p.clamp(0, 0.7) * torch.tensor([0.0, 0.3, 0.25], device=dev)[None, :, None, None])

    # under-eye darkening: an ellipse under each eye (landmarks 36-41, 42-47)
    ed = (pts[:, 36:42].mean(1) - pts[:, 42:48].mean(1)).norm(dim=-1)
    ue = torch.zeros(b, 1, h, w, device=dev)
    ys = torch.arange(h, device=dev, dtype=torch.float32)[None, :, None]
    xs = torch.arange(w, device=dev, dtype=torch.float32)[None, None, :]
    for a0, a1 in ((36, 42), (42, 48)):
        e = pts[:, a0:a1].mean(1)
        ex, ey = e[:, 0, None, None], (e[:, 1] + 0.28 * ed)[:, None, None]
        sx_, sy_ = (0.22 * ed)[:, None, None], (0.11 * ed)[:, None, None]
        ue += torch.exp(-0.5 * (((xs - ex) / sx_) ** 2 + ((ys - ey) / sy_) ** 2))[:, None]
    s = (torch.rand(b, generator=g, device=dev) < 0.5).float() * (0.1 + 0.25 * torch.rand(b, generator=g, device=dev))
    logt += on_["undereye"] * torch.log1p(-(ue * s[:, None, None, None]).clamp(0, 0.6) * torch.tensor([0.5, 0.6, 0.45], device=dev)[None, :, None, None])

    # blotchy low-frequency tone (dullness): smooth multiplicative field, warmer in red
    s = (torch.rand(b, generator=g, device=dev) < 0.5).float() * (0.03 + 0.05 * torch.rand(b, generator=g, device=dev))
    n = lowfreq_noise(g, b, h, w, float(fs.mean()) * 0.08, dev)
    logt += on_["blotchy"] * n * s[:, None, None, None] * torch.tensor([0.8, 1.0, 1.0], device=dev)[None, :, None, None]

    logt = logt * level
    x = c * torch.exp(logt * sk) + add * level * sk
    x = x.clamp(0, 1)
    mask = (((x - c).abs().amax(1, keepdim=True) > 3 / 255) & (sk > 0.3)).float()
    return x, mask


# ----------------------------------------------------------------------------------------------- targets


def retouch(c, skin, pts, amount=0.3, hf_keep=1.0, sigma_s=0.04, sigma_e=0.08, clip=8.0):
    """The slow classical retouch that defines the targets (docs/training.md):
    frequency separation at sigma_s = 4% of F (the high band holds pores, stubble and fine lines: LoG-sigma-1
    energy of the target is ~0.9 of the source); the low band is pulled 30% towards its skin-masked local mean at
    sigma_e = 8% of F (evens blotches and redness smaller than that, keeps the face's shading); local outliers of
    the low band (real spots, darker or redder than their surroundings) are pulled in fully; the high band is kept
    whole except its rare large values (sharp real blemish edges), softly clipped at 8x its mean magnitude.
    (Run 1 used 1.2%/60%/6%/92%/4x: texture of the target fell to 0.53 of the source, too plastic.)"""
    fs = face_scale(pts)
    sk = (skin > 0.5).float()
    low = gauss_blur(c, sigma_s * fs)
    high = c - low
    even = norm_conv(low, sk, sigma_e * fs)
    dev_ = low - even
    dl = dev_.mean(1, keepdim=True)
    red = dev_[:, 0:1] - dev_[:, 1:2]
    outlier = ((-dl - 0.02).clamp(min=0) / 0.03 + (red - 0.015).clamp(min=0) / 0.03).clamp(0, 1)
    a = amount + (1 - amount) * outlier
    low2 = low - a * dev_
    # robust per-image high-band scale inside the skin
    hs = (high.abs().mean(1, keepdim=True) * sk).sum((1, 2, 3)) / sk.sum((1, 2, 3)).clamp(min=1)
    tau = (clip * hs).clamp(min=2 / 255)[:, None, None, None]
    high2 = hf_keep * tau * torch.tanh(high / tau)
    t = low2 + high2
    return (c + skin.clamp(0, 1) * (t - c)).clamp(0, 1)


# ----------------------------------------------------------------------------------------------- data


def decode_jpeg(buf):
    """JPEG bytes -> HxWx3 RGB u8, with whichever decoder the machine has (the GPU host may lack OpenCV)."""
    try:
        import cv2
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    except ImportError:
        pass
    try:
        import io
        from PIL import Image
        return np.asarray(Image.open(io.BytesIO(buf.tobytes())).convert("RGB"))
    except ImportError:
        import torchvision.io
        return torchvision.io.decode_jpeg(torch.from_numpy(buf.copy())).permute(1, 2, 0).numpy()


def load_faces(path, device):
    """Decodes the npz of prepare_data.py: images [N,3,H,W] float [0,1], skin/feat [N,1,H,W], pts, val flags."""
    d = np.load(path, allow_pickle=True)
    imgs = d["rgb"] if "rgb" in d else np.stack([decode_jpeg(j) for j in d["jpeg"]])
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
    return dict(img=t(imgs).permute(0, 3, 1, 2).float().div(255), skin=t(d["skin"])[:, None].float().div(255),
                feat=t(d["feat"])[:, None].float().div(255), pts=t(d["pts"]).float(), val=d["val"],
                name=d["name"], source=d["source"])


def make_batch(data, idx, g, out_hw, strong=True, level=1.0):
    """One batch of training pairs at out_hw: input X, target T, clean C, skin, blemish mask, feature mask."""
    c, sk, ft, po = augment(data["img"][idx], data["skin"][idx], data["feat"][idx], data["pts"][idx], g, out_hw,
                            strong)
    x, bm = add_blemishes(c, sk, po, g, level)
    t = retouch(c, sk, po)
    return dict(x=x, t=t, c=c, skin=sk, bm=bm, feat=ft, pts=po)
