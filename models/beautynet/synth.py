"""Training pairs on the fly, batched in torch (GPU or CPU): augmentation, synthetic blemishes with exact masks,
the clean base B that is the blemish target, and the tone-evening target. Recipes and constants are explained in docs/training.md.

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


def augment(img, skin, feat, pts, g, out_hw, strong=True, img2=None, flow=None):
    """img [B,3,H,W] in [0,1], skin/feat [B,1,H,W], pts [B,68,2] (pixels). Random view (scale, shift, rotation,
    flip) resampled to out_hw, then light, colour, skin tone and lens blur. Returns the clean photo C and the masks.
    Sensor noise and JPEG come later (camera()), after the blemishes, identically on input and target.
    img2 (the next video frame, same crop) and flow (its backward flow to img, [B,2,h,w] in stored-crop pixels at any
    resolution h, w: img2[p] ~ img[p + flow[p]]) go through the same view and look; then C2 and `back`, the sampling
    grid that carries a map of C's view into C2's (warp()), are returned too."""
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
    views = [c]
    if img2 is not None:
        views.append(F.grid_sample(img2, grid, mode="bilinear", padding_mode="reflection", align_corners=False))
        # the flow at each output pixel, in the input's normalised units, taken to the output's by theta's inverse
        f = F.grid_sample(flow, grid, mode="bilinear", padding_mode="border", align_corners=False)
        fn = torch.stack([f[:, 0] * 2 / W, f[:, 1] * 2 / H], 1).reshape(b, 2, -1)
        d = torch.linalg.solve(A, fn).reshape(b, 2, oh, ow).permute(0, 2, 3, 1)
        back = F.affine_grid(torch.eye(2, 3, device=dev).expand(b, 2, 3), (b, 3, oh, ow), align_corners=False) + d
    if strong:
        views = _look(views, g, float(face_scale(po).mean()), back if img2 is not None else None)
    views = [v.clamp(0, 1) for v in views]
    if img2 is None:
        return views[0], sk, ft, po
    return views[0], sk, ft, po, views[1], back


def _look(views, g, fs, back=None):
    """Light, colour, skin tone and lens blur: one random draw per sample, the same on every view; the second view's
    shading is the first's carried along `back` (it is the face's own)."""
    c = views[0]
    b, dev = c.shape[0], c.device
    oh, ow = c.shape[-2:]
    gamma = _u(g, b, 0.8, 1.25, dev)[:, None, None, None]    # light: exposure and gamma
    gain = _u(g, b, 0.75, 1.2, dev)[:, None, None, None]
    wb = 1 + torch.randn(b, 3, 1, 1, generator=g, device=dev) * 0.05  # colour: white balance and saturation
    sat = _u(g, b, 0.75, 1.2, dev)[:, None, None, None]
    # darker skin tones (the photos are mostly light-skinned): a melanin-like tint of the whole picture, 30 %
    mel = torch.where(torch.rand(b, generator=g, device=dev) < 0.3, _u(g, b, 0.2, 1.1, dev), torch.zeros(b, device=dev))
    tint = torch.exp(-mel[:, None, None, None] * torch.tensor([0.55, 0.75, 0.9], device=dev)[None, :, None, None])
    # uneven light (half the samples): the face's own shading, on input and targets alike, so the net learns that
    # colourless smooth variation is light to keep, not tone to even (blotchy tone, below, is pigment: it has colour)
    light = uneven_light(g, b, oh, ow, fs, dev, torch.rand(b, generator=g, device=dev) < 0.5)
    # lens blur (sometimes)
    blur = torch.where(torch.rand(b, generator=g, device=dev) < 0.3, _u(g, b, 0.3, 1.0, dev), torch.zeros(b, device=dev))
    out = []
    for i, c in enumerate(views):
        c = (c.clamp(1e-4, 1) ** gamma) * gain * wb
        lum = c.mean(1, keepdim=True)
        c = ((lum + (c - lum) * sat) * tint * (light if i == 0 else warp(light, back))).clamp(0, 1)
        out.append(gauss_blur(c, blur) if float(blur.max()) > 0 else c)
    return out


def camera(g, imgs):
    """Sensor noise (50 %) and a JPEG round trip (40 %), the same draws for every image in `imgs` (input and
    targets): the net must keep the camera's own grain, not learn to denoise (plastic skin)."""
    b, _, h, w = imgs[0].shape
    dev = imgs[0].device
    ns = torch.where(torch.rand(b, generator=g, device=dev) < 0.5, _u(g, b, 0.0, 0.015, dev), torch.zeros(b, device=dev))
    n = torch.randn(b, 1, h, w, generator=g, device=dev) + 0.4 * torch.randn(b, 3, h, w, generator=g, device=dev)
    jq = _u(g, b, 45, 95, dev).round()
    use = (torch.rand(b, generator=g, device=dev) < 0.4)[:, None, None, None]
    out = []
    for im in imgs:
        im = (im + n * ns[:, None, None, None]).clamp(0, 1)
        out.append(torch.where(use, jpeg(im, jq), im) if bool(use.any()) else im)
    return out


# ----------------------------------------------------------------------------------------------- blemishes


def face_scale(pts):
    return (pts[:, 16] - pts[:, 0]).norm(dim=-1)  # [B]


# Outside this many times an instance's largest radius q >= 5.7^2 = 32.49, and q ** p >= q for p >= 1: the opacity
# exp(-q^p / 2) <= exp(-16.2) = 8.8e-8 (the least factor for 1e-7 is 5.68).
SHAPE_REACH = 5.7


def _shapes(g, h, w, cx, cy, r, hard, wobble, dev):
    """cx, cy, r, hard, wobble: [B,K] -> [B,K,H,W] opacity in [0,1]. r is the radius scale (sigma of a Gaussian);
    hard in [0,1] blends the Gaussian into a flat-topped super-Gaussian (hard edge); wobble > 0 modulates the
    radius with angular harmonics 2..4 (irregular outline).
    Evaluated only within SHAPE_REACH of each instance's largest radius (beyond it the opacity is below 1e-7 and
    left 0): the marks are small, and over the whole map this was most of a batch's synthesis time on a CPU."""
    b, k = cx.shape
    harmonics = []
    for n in (2, 3, 4):
        amp = wobble * torch.rand(b, k, generator=g, device=dev) / n * 2
        ph = 2 * math.pi * torch.rand(b, k, generator=g, device=dev)
        harmonics.append((n, amp, ph))
    reach = SHAPE_REACH * (r * (1 + sum(a.abs() for _, a, _ in harmonics))).clamp(min=0.5)  # [B,K]
    ys = torch.arange(h, device=dev, dtype=torch.float32)[None, None, :, None]
    xs = torch.arange(w, device=dev, dtype=torch.float32)[None, None, None, :]
    near = (xs - cx[..., None, None]) ** 2 + (ys - cy[..., None, None]) ** 2 < (reach * reach)[..., None, None]
    bi, ki, yi, xi = near.nonzero(as_tuple=True)
    dx, dy = xi.float() - cx[bi, ki], yi.float() - cy[bi, ki]
    th = torch.atan2(dy, dx)
    mod = torch.ones_like(th)
    for n, amp, ph in harmonics:
        mod = mod + amp[bi, ki] * torch.cos(n * th + ph[bi, ki])
    rr = (r[bi, ki] * mod.clamp(min=0.4)).clamp(min=0.5)
    q = (dx * dx + dy * dy) / (rr * rr)
    p = 1 + 3 * hard[bi, ki]  # exponent on q: 1 = Gaussian, 4 = hard-edged disc of radius ~1.2 r
    out = torch.zeros(b, k, h, w, device=dev)
    out[bi, ki, yi, xi] = torch.exp(-0.5 * q ** p)
    return out


def _places(g, skin, k, dev):
    """k candidate centres per image where skin is solid; a per-instance on/off gives a random count."""
    b, _, h, w = skin.shape
    prob = (skin[:, 0] > 0.8).float().reshape(b, -1) + 1e-6
    idx = torch.multinomial(prob, k, replacement=True, generator=g)
    cy = (idx // w).float() + torch.rand(b, k, generator=g, device=dev) - 0.5
    cx = (idx % w).float() + torch.rand(b, k, generator=g, device=dev) - 0.5
    on = (torch.rand(b, k, generator=g, device=dev) < torch.rand(b, 1, generator=g, device=dev)).float()
    return cx, cy, on


def _loguni(g, shape, lo, hi, dev):
    return torch.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * torch.rand(*shape, generator=g, device=dev))


def lowfreq_noise(g, b, h, w, cell, dev, ch=1):
    """Smooth random field, unit-ish std, features ~cell pixels (bicubic-upsampled white noise)."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    n = torch.randn(b, ch, gh, gw, generator=g, device=dev)
    return F.interpolate(n, size=(h, w), mode="bicubic", align_corners=False)


def uneven_light(g, b, h, w, fs, dev, on):
    """A colourless, smooth multiplicative light field (soft shadows, side light): cells ~8 % F, +-3-9 % (the
    v2 nets' first "blotchy" family, which was indistinguishable from shading and taught them to flatten it).
    on: [B] bool, which samples get it; the others get 1."""
    s = on.float() * _u(g, b, 0.03, 0.09, dev)
    return torch.exp(lowfreq_noise(g, b, h, w, fs * 0.08, dev) * s[:, None, None, None])


def _rgb(v, dev):
    return torch.tensor(v, device=dev, dtype=torch.float32)[None, :, None, None]


# Families of synthetic blemishes (docs/training.md). HELD_OUT is never drawn in training: the eval reports it
# separately, as removal of a kind of blemish the net never saw.
# Log-attenuation per channel (R, G, B) of the skin's two pigments, as the tints below use them.
MELANIN = (0.7, 0.9, 1.05)
HAEMOGLOBIN = (0.0, 0.35, 0.3)
# MIXED (randomised mixtures of the two pigments, drawn only when asked for) is not in the pooled figures nor in the
# default training recipe: training on it bought nothing measurable (docs/training.md, run 20), so the eval reports
# it as a second family the shipped nets never saw. `train.py --types` can add it.
BLEMISH_TYPES = ("spots", "light_spots", "papules", "macules", "redness", "undereye", "blotchy", "postacne", "mixed")
HELD_OUT = "postacne"
MIXED = "mixed"
TRAIN_TYPES = tuple(t for t in BLEMISH_TYPES if t not in (HELD_OUT, MIXED))


def add_blemishes(c, skin, pts, g, level=1.0, types=TRAIN_TYPES):
    """Draws blemishes on the clean base `c` (only on skin). Returns dict:
    x: C with blemishes; mask: exact blemish mask (changed by > 3/255 in any channel, on skin); weight: per-pixel
    loss weight in which every instance counts about the same whatever its area (small spots as much as patches);
    inst: [B,K,H,W] bool footprints of the drawn instances; kinds: the family of each of the K instances.
    The random draws do not depend on `types` (per-type evaluation sees the same faces and places), except the
    MIXED family's, drawn last and only when asked for.
    Operations: multiplicative tints (the skin's own texture stays visible under the blemish), blends toward a
    sampled colour (flat marks that hide texture), additive light (whiteheads), shading (raised papules)."""
    b, _, h, w = c.shape
    dev = c.device
    fs = face_scale(pts)[:, None]  # [B,1]
    sk = skin.clamp(0, 1)
    x = c.clone()
    fps, kinds = [], []
    u = lambda *s: torch.rand(*s, generator=g, device=dev)  # noqa: E731
    skin_col = (c * (sk > 0.5)).sum((2, 3), keepdim=True) / (sk > 0.5).sum((2, 3), keepdim=True).clamp(min=1)

    def draw(kind, op, a, col, record=True):
        """Applies opacity maps a [B,K,H,W] (already x strength) with op; records the instances' footprints."""
        nonlocal x
        on = float(kind in types) * level
        tot = a.sum(1, keepdim=True) * on * sk
        if op == "tint":      # col: log-attenuation per channel
            x = x * torch.exp(-tot.clamp(0, 0.95) * col)
        elif op == "blend":   # col: target colour [B,3,1,1]
            x = x + tot.clamp(0, 0.95) * (col - x)
        else:                 # "gain": signed shading, x * (1 + a)
            x = x * (1 + tot.clamp(-0.5, 0.5))
        if record:
            fps.append(a.abs() * on > 0.04)
            kinds.extend([kind] * a.shape[1])

    # dark spots (melanin): tiny to 3 % F, Gaussian / hard-edged / irregular, up to ~90/255
    k = 12
    cx, cy, on = _places(g, sk, k, dev)
    r = torch.maximum(_loguni(g, (b, k), 0.003, 0.02, dev) * fs, torch.full_like(cx, 0.45))
    a = _shapes(g, h, w, cx, cy, r, (u(b, k) < 0.4).float() * u(b, k), 0.4 * (u(b, k) < 0.3).float(), dev)
    draw("spots", "tint", a * (on * (0.2 + 0.55 * u(b, k)))[..., None, None], _rgb(MELANIN, dev))

    # light spots and whiteheads: small, brighter and yellowish
    k = 6
    cx, cy, on = _places(g, sk, k, dev)
    r = torch.maximum(_loguni(g, (b, k), 0.003, 0.012, dev) * fs, torch.full_like(cx, 0.45))
    a = _shapes(g, h, w, cx, cy, r, 0.5 * u(b, k), torch.zeros(b, k, device=dev), dev)
    draw("light_spots", "blend", a * (on * (0.25 + 0.45 * u(b, k)))[..., None, None],
         torch.tensor([1.0, 0.97, 0.85], device=dev)[None, :, None, None].expand(b, 3, 1, 1))

    # papules: raised red bumps, red core + halo, lit from the upper left (shading), some with a whitehead
    k = 8
    cx, cy, on = _places(g, sk, k, dev)
    r = torch.maximum(_loguni(g, (b, k), 0.005, 0.016, dev) * fs, torch.full_like(cx, 0.6))
    s = on * (0.4 + 0.5 * u(b, k))
    core = _shapes(g, h, w, cx, cy, r, torch.zeros(b, k, device=dev), torch.zeros(b, k, device=dev), dev)
    halo = _shapes(g, h, w, cx, cy, 2.5 * r, torch.zeros(b, k, device=dev), 0.3 * u(b, k), dev)
    draw("papules", "tint", (core + 0.35 * halo).clamp(0, 1) * s[..., None, None], _rgb([0.05, 0.55, 0.45], dev))
    lit = _shapes(g, h, w, cx - 0.45 * r, cy - 0.45 * r, 0.7 * r, torch.zeros(b, k, device=dev),
                  torch.zeros(b, k, device=dev), dev) - core * 0.6
    draw("papules", "gain", lit.clamp(-1, 1) * (0.2 * s)[..., None, None], None, record=False)
    wh = (u(b, k) < 0.4).float() * s
    a = _shapes(g, h, w, cx, cy, 0.35 * r, torch.ones(b, k, device=dev) * 0.5, torch.zeros(b, k, device=dev), dev)
    draw("papules", "blend", a * (0.7 * wh)[..., None, None],
         torch.tensor([0.98, 0.95, 0.82], device=dev)[None, :, None, None].expand(b, 3, 1, 1), record=False)

    # macules: flat brown marks 1-3 % F, irregular, hard-ish edges, blended toward a sampled darker skin colour
    k = 4
    cx, cy, on = _places(g, sk, k, dev)
    r = _loguni(g, (b, k), 0.008, 0.03, dev) * fs
    a = _shapes(g, h, w, cx, cy, r, 0.3 + 0.7 * u(b, k), 0.5 * u(b, k), dev)
    shade = 0.5 + 0.3 * u(b, 1, 1, 1)
    draw("macules", "blend", a * (on * (0.3 + 0.5 * u(b, k)))[..., None, None],
         skin_col * torch.cat([shade + 0.12, shade, shade - 0.05], 1))

    # redness patches: large, irregular (haemoglobin: green and blue absorbed)
    k = 3
    cx, cy, on = _places(g, sk, k, dev)
    r = (0.05 + 0.07 * u(b, k)) * fs
    a = _shapes(g, h, w, cx, cy, r, torch.zeros(b, k, device=dev), 0.5 * torch.ones(b, k, device=dev), dev)
    a = a * (1 + 0.6 * lowfreq_noise(g, b, h, w, float(fs.mean()) * 0.05, dev)).clamp(0, 2)
    draw("redness", "tint", a * (on * (0.2 + 0.45 * u(b, k)))[..., None, None], _rgb(HAEMOGLOBIN, dev))

    # under-eye shadows: an ellipse under each eye (landmarks 36-41, 42-47), purple-brown
    ed = (pts[:, 36:42].mean(1) - pts[:, 42:48].mean(1)).norm(dim=-1)
    ys = torch.arange(h, device=dev, dtype=torch.float32)[None, :, None]
    xs = torch.arange(w, device=dev, dtype=torch.float32)[None, None, :]
    ue = []
    for a0, a1 in ((36, 42), (42, 48)):
        e = pts[:, a0:a1].mean(1)
        ex, ey = e[:, 0, None, None], (e[:, 1] + 0.28 * ed)[:, None, None]
        sx_, sy_ = (0.22 * ed)[:, None, None], (0.11 * ed)[:, None, None]
        ue.append(torch.exp(-0.5 * (((xs - ex) / sx_) ** 2 + ((ys - ey) / sy_) ** 2)))
    s = (u(b) < 0.5).float() * (0.15 + 0.35 * u(b))
    draw("undereye", "tint", torch.stack(ue, 1) * s[:, None, None, None], _rgb([0.5, 0.65, 0.5], dev))

    # uneven tone (blotches): smooth patches of extra pigment, one "instance" per face. Pigment, not light: melanin
    # (brown: blue absorbed most) and haemoglobin (red: green and blue absorbed) change colour as well as lightness,
    # which is what tells them from the face's shading (colourless; uneven_light, kept)
    s = (u(b) < 0.5).float()
    sm, sh = s * (0.04 + 0.08 * u(b)), s * (0.1 + 0.3 * u(b))
    nm = (lowfreq_noise(g, b, h, w, float(fs.mean()) * 0.08, dev) - 0.3).clamp(min=0)
    nh = (lowfreq_noise(g, b, h, w, float(fs.mean()) * 0.08, dev) - 0.3).clamp(min=0)
    field = sk * (nm * sm[:, None, None, None] * _rgb(MELANIN, dev) +
                  nh * sh[:, None, None, None] * _rgb(HAEMOGLOBIN, dev))
    on = float("blotchy" in types) * level
    x = x * torch.exp(-field * on)
    fps.append((field.abs().amax(1, keepdim=True) * on) > 0.015)
    kinds.append("blotchy")

    # held out: post-acne marks: red-purple-brown, irregular, mottled inside, blended toward a sampled colour
    k = 5
    cx, cy, on = _places(g, sk, k, dev)
    r = _loguni(g, (b, k), 0.006, 0.02, dev) * fs
    a = _shapes(g, h, w, cx, cy, r, 0.6 * u(b, k), 0.6 * torch.ones(b, k, device=dev), dev)
    a = a * (0.75 + 0.25 * lowfreq_noise(g, b, h, w, max(1.5, float(fs.mean()) * 0.006), dev)).clamp(0, 1.2)
    draw("postacne", "blend", a * (on * (0.3 + 0.45 * u(b, k)))[..., None, None],
         skin_col * _rgb([0.82, 0.6, 0.66], dev))

    # mixed marks (drawn last, so the families above get the same draws with or without them): any mixture of the
    # two pigments plus a small random hue, darker or (one in five) lighter, as a tint (texture shows through) or a
    # blend toward that colour (flat), any outline, mottled or not, 0.3-3 % F: the fixed-recipe families above have
    # one colour direction each, real marks are mixtures
    if MIXED in types:
        k = 6
        cx, cy, on = _places(g, sk, k, dev)
        r = torch.maximum(_loguni(g, (b, k), 0.003, 0.03, dev) * fs, torch.full_like(cx, 0.45))
        a = _shapes(g, h, w, cx, cy, r, u(b, k), 0.6 * u(b, k), dev)
        mottle = (u(b, k) < 0.5).float()[..., None, None]
        mott = lowfreq_noise(g, b, h, w, max(1.5, float(fs.mean()) * 0.008), dev, ch=k)
        a = a * (1 - mottle * 0.3 * mott).clamp(0, 1.3)
        mel, hae = (torch.tensor(p, device=dev) for p in (MELANIN, HAEMOGLOBIN))
        v = u(b, k, 1) * mel + u(b, k, 1) * hae + 0.08 * torch.randn(b, k, 3, generator=g, device=dev)  # log-atten.
        v = v * torch.where(u(b, k, 1) < 0.2, -0.5, 1.0)  # one in five lighter (hypopigmented)
        s = on * (0.25 + 0.6 * u(b, k))
        blend = u(b, k) < 0.5
        for i in range(k):
            col = v[:, i, :, None, None]
            ai = (a[:, i:i + 1] * s[:, i, None, None, None])
            draw(MIXED, "tint", ai * (~blend[:, i]).float()[:, None, None, None], col, record=False)
            draw(MIXED, "blend", ai * blend[:, i].float()[:, None, None, None], skin_col * torch.exp(-col), record=False)
            fps.append(ai.abs() * level > 0.04)
            kinds.append(MIXED)

    x = x.clamp(0, 1)
    mask = (((x - c).abs().amax(1, keepdim=True) > 3 / 255) & (sk > 0.3)).float()
    inst = torch.cat(fps, 1) & (sk > 0.3)
    area = inst.float().sum((2, 3))                                             # [B,K]
    a_ref = (0.015 * fs) ** 2 * math.pi                                         # a 1.5 %-F spot
    wk = (a_ref / area.clamp(min=1)).clamp(0.25, 16) * (area > 0)
    weight = (inst.float() * wk[..., None, None]).amax(1, keepdim=True) * mask
    return dict(x=x, mask=mask, weight=weight, inst=inst, kinds=kinds)


# ----------------------------------------------------------------------------------------------- targets


def clean_base(c, skin, pts):
    """The clean base B of a training photo: only its strong local outliers — spots darker, redder or brighter than
    the skin around them — are replaced by the local skin tone (their own high band kept), then the mean change
    over the skin is removed per channel. No global evening, no brightening: blemishes are drawn on B and the
    blemish target is B exactly."""
    fs = face_scale(pts)
    sk = (skin > 0.5).float()
    low = gauss_blur(c, 0.012 * fs)
    ref = norm_conv(low, sk, 0.05 * fs)
    dev_ = low - ref
    dl = dev_.mean(1, keepdim=True)
    red = dev_[:, 0:1] - 0.5 * (dev_[:, 1:2] + dev_[:, 2:3])
    out = ((-dl - 0.03) / 0.03).clamp(0, 1) + ((red - 0.02) / 0.03).clamp(0, 1) + ((dl - 0.08) / 0.04).clamp(0, 1)
    b = c - skin.clamp(0, 1) * out.clamp(0, 1) * dev_
    sw = skin.clamp(0, 1)
    mean_change = ((b - c) * sw).sum((2, 3), keepdim=True) / sw.sum((2, 3), keepdim=True).clamp(min=1)
    return (b - sw * mean_change).clamp(0, 1)


def even_tone(b, skin, pts, amount=0.5, sigma_s=0.04, sigma_e=0.08):
    """The tone target on top of B: the low band (sigma_s = 4 % F) pulled `amount` of the way to its skin-masked
    local mean (sigma_e = 8 % F): evens blotches and redness below ~8 % F, keeps the face's shading and all texture."""
    fs = face_scale(pts)
    sk = (skin > 0.5).float()
    low = gauss_blur(b, sigma_s * fs)
    even = norm_conv(low, sk, sigma_e * fs)
    return (b + skin.clamp(0, 1) * amount * (even - low)).clamp(0, 1)


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
    """Decodes the npz of prepare_data.py: images [N,3,H,W] float [0,1], skin/feat [N,1,H,W], pts, val flags; and,
    where the file has them, the consecutive video frames as data["pairs"]: img0/img1 (frames t, t+1 in the same
    crop), skin/feat/pts of frame t, flow [N,2,h,w] (img1[p] ~ img0[p + flow[p]], stored-crop pixels), val, clip."""
    d = np.load(path, allow_pickle=True)
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731

    def images(key):
        return t(d[key + "rgb"] if key + "rgb" in d else np.stack([decode_jpeg(j) for j in d[key + "jpeg"]])
                 ).permute(0, 3, 1, 2).float().div(255)

    def common(key):
        return dict(skin=t(d[key + "skin"])[:, None].float().div(255), feat=t(d[key + "feat"])[:, None].float().div(255),
                    pts=t(d[key + "pts"]).float(), val=d[key + "val"])

    out = dict(img=images(""), name=d["name"], source=d["source"], **common(""))
    if "pair_flow" in d:
        out["pairs"] = dict(img0=images("pair0_"), img1=images("pair1_"), flow=t(d["pair_flow"]).float(),
                            clip=d["pair_clip"], **common("pair_"))
    return out


def shift_grid(shift, hw):
    """The sampling grid (warp()) that moves a map by shift [B,2] pixels (x, y)."""
    b, (h, w) = shift.shape[0], hw
    eye = torch.eye(2, device=shift.device).expand(b, 2, 2)
    off = torch.stack([-2 * shift[:, 0] / w, -2 * shift[:, 1] / h], 1)[:, :, None]
    return F.affine_grid(torch.cat([eye, off], 2), (b, 1, h, w), align_corners=False)


def warp(img, back, mode="bilinear"):
    """img [B,C,H,W] resampled at the grid `back` [B,H,W,2] (normalised coordinates of img for every output pixel),
    edges reflected: a map of one frame carried into the next."""
    return F.grid_sample(img, back, mode=mode, padding_mode="reflection", align_corners=False)


# The second view of the temporal-consistency loss: the face moved by up to this many pixels (sub-pixel included),
# seen through a new camera draw (noise, JPEG) -- what the element's crop of the next video frame differs by.
# Share of training samples drawn without blemishes (make_batch; train.py --clean-share).
CLEAN_SHARE = 0.0
VIEW_SHIFT_PX = 1.5
VAL_NOISE = 0.008  # ~2 code values
# Real consecutive frames (make_pair_batch): where frame t carried along the flow differs from frame t+1 by more than
# this (luma, blurred over ~1 px), the flow does not hold (mouth, blinks, new light) and the temporal terms look away.
FLOW_MATCH = 0.03
EDGE_PX = 2  # the second view's border (reflected by the move) is left out of the temporal terms
# Share of the consecutive-frame pairs drawn with synthetic blemishes. 0: a carried blemish's large correction turns
# the flow's sub-pixel errors into most of the temporal term, and at 0.25 the term taught the net to drop its
# blemish corrections (removal 0.62 -> 0.38, docs/training.md run 27); the flicker that matters is on clean skin.
PAIR_BLEMISH_SHARE = 0.0


def _second_view_mask(skin2, back, match=None):
    """Where a second view's temporal terms look: its skin, inside the first view's frame (EDGE_PX in), where the
    flow holds."""
    h, w = skin2.shape[-2:]
    lim = torch.tensor([1 - 2 * EDGE_PX / w, 1 - 2 * EDGE_PX / h], device=back.device)
    m = skin2 * (back.abs() <= lim).all(-1)[:, None].float()
    m[..., :EDGE_PX, :] = m[..., -EDGE_PX:, :] = m[..., :, :EDGE_PX] = m[..., :, -EDGE_PX:] = 0
    return m if match is None else m * match


def make_batch(data, idx, g, out_hw, strong=True, level=1.0, types=TRAIN_TYPES, second_view=False, clean_share=0.0):
    """One batch of training pairs at out_hw: input X, blemish target B (= the clean base through the same camera),
    tone target, clean photo C, skin, blemish mask and weights, feature mask, landmarks. second_view adds x2 (the
    same blemished face moved by up to VIEW_SHIFT_PX, through its own camera draw), `back` (the grid that carries the
    first view's maps into the second's, warp()) and m2 (where the temporal terms look).
    clean_share: the share of samples drawn without blemishes (X = B up to the camera), where the clean-skin terms
    see the whole skin: the case of a clean face, on which the retouch must change nothing, mean colour included."""
    c, sk, ft, po = augment(data["img"][idx], data["skin"][idx], data["feat"][idx], data["pts"][idx], g, out_hw,
                            strong)
    base = clean_base(c, sk, po)
    if clean_share > 0:
        level = level * (torch.rand(c.shape[0], 1, 1, 1, generator=g, device=c.device) >= clean_share).float()
    bl = add_blemishes(base, sk, po, g, level, types)
    tone = base + sk * (even_tone(base, sk, po) - base)
    if strong:
        x, t, tone = camera(g, [bl["x"], base, tone])
    else:
        x, t = bl["x"], base
    out = dict(x=x, t=t, tone=tone, c=c, skin=sk, bm=bl["mask"], w=bl["weight"], inst=bl["inst"], kinds=bl["kinds"],
               feat=ft, pts=po)
    if second_view:
        shift = (torch.rand(x.shape[0], 2, generator=g, device=x.device) * 2 - 1) * VIEW_SHIFT_PX
        back = shift_grid(shift, out_hw)
        moved = warp(bl["x"], back)
        # validation (not strong) has no camera: a fixed light sensor noise stands in for the new frame's own
        x2 = camera(g, [moved])[0] if strong else (moved + VAL_NOISE * torch.randn(moved.shape, generator=g,
                                                                                   device=x.device)).clamp(0, 1)
        out.update(x2=x2, back=back, m2=_second_view_mask(warp(sk, back), back))
    return out


def make_pair_batch(pairs, idx, g, out_hw, strong=True, types=TRAIN_TYPES, blemish_share=PAIR_BLEMISH_SHARE, raw=False):
    """Two consecutive video frames of the same face (data["pairs"], prepare_data.py) through one random view and
    look, the same synthetic blemishes on both (drawn on frame t's clean base and carried along the flow onto frame
    t+1's), each through its own camera draw: x, x2, the grid `back` that carries frame t's maps into frame t+1's
    along the real flow, and m2, frame t+1's skin where that flow holds (FLOW_MATCH). What the temporal term sees
    here is what the element sees on a video: real motion, expression, light and compression between the frames.
    blemish_share: the share of pairs drawn with blemishes; the others are the two frames' clean bases (each frame's
    own strong outliers removed, as for every training input), or with raw the frames as they are (their own
    blemishes, where the retouch is largest, in the term)."""
    p = pairs
    c, sk, ft, po, c2, back = augment(p["img0"][idx], p["skin"][idx], p["feat"][idx], p["pts"][idx], g, out_hw,
                                      strong, p["img1"][idx], p["flow"][idx])
    sk2 = warp(sk, back)
    base, base2 = clean_base(c, sk, po), clean_base(c2, sk2, po)
    level = (torch.rand(c.shape[0], 1, 1, 1, generator=g, device=c.device) < blemish_share).float()
    if raw:
        base, base2 = level * base + (1 - level) * c, level * base2 + (1 - level) * c2
    bl = add_blemishes(base, sk, po, g, level, types)
    x2 = (base2 + warp(bl["x"] - base, back)).clamp(0, 1)
    x = bl["x"]
    if strong:
        x, x2 = camera(g, [x])[0], camera(g, [x2])[0]
    match = (gauss_blur((c2 - warp(c, back)).mean(1, keepdim=True).abs(), 1.0) < FLOW_MATCH).float()
    return dict(x=x, x2=x2, back=back, m2=_second_view_mask(sk2, back, match))
