"""PyTorch modules of the beauty net, built from the layer graphs in arch.py, and the blemish segmentation net.

Training form: every conv of the graph is a RepVGG block (3x3+BN, 1x1+BN, and identity BN where the shapes allow).
Deploy form: one 3x3 conv with bias per graph conv, exactly what the .bmodel stores; `fold()` makes it.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import arch, bmodel, int8

ACTS = {arch.ACT_NONE: lambda x: x, arch.ACT_RELU: F.relu, arch.ACT_TANH: torch.tanh}


class RepConv(nn.Module):
    """3x3 + 1x1 + identity branches, each with BN; folds into one 3x3 conv with bias (linearity of convolution)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.k3 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b3 = nn.BatchNorm2d(cout)
        self.k1 = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.bid = nn.BatchNorm2d(cout) if (cin == cout and stride == 1) else None

    def forward(self, x):
        y = self.b3(self.k3(x)) + self.b1(self.k1(x))
        if self.bid is not None:
            y = y + self.bid(x)
        return y

    @staticmethod
    def _fuse(kernel, bn):
        std = torch.sqrt(bn.running_var + bn.eps)
        t = (bn.weight / std).reshape(-1, 1, 1, 1)
        return kernel * t, bn.bias - bn.running_mean * bn.weight / std

    @torch.no_grad()
    def folded(self):
        """(W[out,in,3,3], b[out]) of the equivalent single conv, using BN running statistics (eval mode)."""
        w3, b3 = self._fuse(self.k3.weight, self.b3)
        w1, b1 = self._fuse(F.pad(self.k1.weight, [1, 1, 1, 1]), self.b1)
        w, b = w3 + w1, b3 + b1
        if self.bid is not None:
            c = self.k3.weight.shape[0]
            ident = torch.zeros_like(self.k3.weight)
            ident[torch.arange(c), torch.arange(c), 1, 1] = 1.0
            wi, bi = self._fuse(ident, self.bid)
            w, b = w + wi, b + bi
        return w, b


class BeautyNet(nn.Module):
    """The tier's graph: train form (RepConv) or deploy form (plain 3x3 conv with bias)."""

    def __init__(self, tier, deploy=False):
        super().__init__()
        self.tier, self.deploy = tier, deploy
        ch = arch.channels(tier.layers)
        convs = []
        for l in tier.layers:
            if l.op == arch.CONV:
                convs.append(nn.Conv2d(ch[l.a], l.out_channels, 3, l.stride, 1) if deploy
                             else RepConv(ch[l.a], l.out_channels, l.stride))
        self.convs = nn.ModuleList(convs)
        self.int8 = None  # deploy form: per conv its input's maxima (tensor) or None; set_int8 explains
        if not deploy:  # start at the identity retouch: a zero head makes the first deltas exactly 0 (a random
            head = self.convs[-1]  # first delta of up to 80/255 made Adam's first steps kill the ReLUs)
            for m in (head.b3, head.b1):
                nn.init.zeros_(m.weight)

    def set_int8(self, maxima):
        """Deploy form only: run the convs with calibration maxima (int8.calibrate) as the engine's int8 path does,
        inputs and weights fake-quantised (int8.py); None turns it off."""
        assert self.deploy or maxima is None, "int8 runs the deploy form (fold() first)"
        dev = next(self.parameters()).device
        self.int8 = None if maxima is None else [
            None if m is None else torch.as_tensor(m, dtype=torch.float32).to(dev) for m in maxima]

    def forward(self, x):
        """x: RGB in [-1,1] (arch.INPUT_SCALE/BIAS), N3HW. Returns the raw head output (tanh, half resolution,
        OUT_CHANNELS x SHUFFLE^2 channels; layers() unpacks it)."""
        t = [x]
        ci = 0
        for l in self.tier.layers:
            if l.op == arch.CONV:
                c, m = self.convs[ci], self.int8[ci] if self.int8 else None
                if m is None:
                    y = c(t[l.a])
                else:
                    y = F.conv2d(int8.fake_quant_input(t[l.a], m), int8.fake_quant_weights(c.weight, m), c.bias,
                                 c.stride, 1)
                y = ACTS[l.act](y)
                ci += 1
            elif l.op == arch.UPSAMPLE:
                y = F.interpolate(t[l.a], scale_factor=2, mode="nearest")
            else:
                y = torch.cat([t[l.a], t[l.b]], 1)
            t.append(y)
        return t[-1]

    def int8_maxima(self):
        return None if self.int8 is None else [None if m is None else m.cpu().numpy() for m in self.int8]

    def folded_weights(self):
        """(W, b) per conv of the deploy form; with int8 set, W on the int8 grid (what the file stores)."""
        if not self.deploy:
            return [c.folded() for c in self.convs]
        ws = [(c.weight.detach().clone(), c.bias.detach().clone()) for c in self.convs]
        if self.int8 is None:
            return ws
        snapped = int8.snap_weights([(w.cpu().numpy(), b) for w, b in ws], self.int8_maxima())
        return [(torch.from_numpy(w).to(b.device), b) for w, b in snapped]

    def fold(self):
        """A deploy-form copy with the RepVGG branches and BN folded in."""
        d = BeautyNet(self.tier, deploy=True).to(next(self.parameters()).device)
        with torch.no_grad():
            for c, (w, b) in zip(d.convs, self.folded_weights()):
                c.weight.copy_(w)
                c.bias.copy_(b)
        d.set_int8(self.int8_maxima())
        return d.eval()

    def export(self, path, tier_name=None):
        ws = [(w.cpu().double().numpy(), b.cpu().double().numpy()) for w, b in self.folded_weights()]
        t = self.tier
        bmodel.write(path, tier_name or t.name, t.width, t.height, t.layers, ws,
                     arch.INPUT_SCALE, arch.INPUT_BIAS, arch.OUTPUT_SCALE, input_max=self.int8_maxima())


def to_net(img01):
    """[0,1] float RGB -> the net's input range."""
    return img01 * (255.0 * arch.INPUT_SCALE) + arch.INPUT_BIAS


def layers(out):
    """Raw head output (tanh, 1/2 resolution) -> (blemish delta, tone delta, alpha) at full input resolution;
    deltas in [0,1] image units, alpha in [0,1] (arch.OUT_*)."""
    y = F.pixel_shuffle(out, arch.SHUFFLE)
    k = arch.OUTPUT_SCALE / 255.0
    return (y[:, arch.OUT_BLEMISH[0]:arch.OUT_BLEMISH[1]] * k, y[:, arch.OUT_TONE[0]:arch.OUT_TONE[1]] * k,
            (y[:, arch.OUT_ALPHA:arch.OUT_ALPHA + 1] + 1) / 2)


def compose(x01, out, skin, blemish=1.0, tone=0.0):
    """What the element does: upsample the retouch layers (bilinear) to x01's size and add blemish x the blemish
    delta + tone x the tone delta through the skin mask."""
    db, dt, _ = layers(out)
    d = blemish * db + tone * dt
    if d.shape[-2:] != x01.shape[-2:]:
        d = F.interpolate(d, size=x01.shape[-2:], mode="bilinear", align_corners=False)
    return (x01 + skin * d).clamp(0, 1)


def _block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class BlemishSeg(nn.Module):
    """The 'large' blemish segmentation net (4-level U-Net, ~1.2 M params, ~30x the beauty net L): blemish logit per
    pixel. Trained on the synthetic masks, then frozen and used as the discriminator loss and as the eval judge."""

    def __init__(self, w=24):
        super().__init__()
        c = [w, 2 * w, 4 * w, 6 * w]
        self.stem = _block(3, c[0])
        self.down = nn.ModuleList([_block(c[i], c[i + 1]) for i in range(3)])
        self.up = nn.ModuleList([_block(c[i + 1] + c[i], c[i]) for i in reversed(range(3))])
        self.head = nn.Conv2d(c[0], 1, 1)

    def forward(self, x01):
        x = to_net(x01)
        skips = [self.stem(x)]
        for d in self.down:
            skips.append(d(F.avg_pool2d(skips[-1], 2)))
        y = skips.pop()
        for u in self.up:
            s = skips.pop()
            y = u(torch.cat([F.interpolate(y, size=s.shape[-2:], mode="bilinear", align_corners=False), s], 1))
        return self.head(y)


def load_bmodel(path, device="cpu", int8_mode=False):
    """A deploy-form BeautyNet with the weights of a .bmodel file (the eval runs shipped files through this);
    int8_mode: running as the engine's int8 path does, with the file's calibration."""
    m = bmodel.read(path)
    t = arch.Tier(m["tier"], m["width"], m["height"], 0, 0, 0, 0, 0, m["layers"])
    net = BeautyNet(t, deploy=True)
    with torch.no_grad():
        for c, (w, b) in zip(net.convs, m["weights"]):
            c.weight.copy_(torch.from_numpy(w))
            c.bias.copy_(torch.from_numpy(b))
    net = net.eval().to(device)
    if int8_mode:
        if m["input_max"] is None:
            raise ValueError("%s has no int8 calibration (calibrate_int8.py)" % path)
        net.set_int8(m["input_max"])
    return net


class Ensemble(nn.Module):
    """Several nets of one input size, their raw head outputs averaged: a distillation teacher (train.py --teacher)
    that may be another tier, or a mean of several (which errs less and changes less under noise than its members)."""

    def __init__(self, members):
        super().__init__()
        sizes = {(m.tier.width, m.tier.height) for m in members}
        if len(sizes) != 1:
            raise ValueError("ensemble members differ in input size: %s" % sorted(sizes))
        self.members = nn.ModuleList(members)
        self.tier = members[0].tier

    def forward(self, x):
        return sum(m(x) for m in self.members) / len(self.members)
