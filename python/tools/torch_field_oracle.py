"""An external oracle for GameFlow's GAN field: PyTorch (float64) builds the two networks from a
run's architecture (summary.json's configuration), loads the run's state (state.json) and
evaluation batch (evaluation_real.npy, evaluation_latents.npy), and computes v, v'u and v'^T u
by autograd; `gameflow field --run DIR --direction u.npy --json` must agree.

    python3 python/tools/torch_field_oracle.py RUN_DIR [--gameflow PATH] [--seed 0]

Written from PyTorch's documentation and the paper's definitions (players maximise, v = (grad_G g,
grad_D f)), not from GameFlow's code. Needs torch and numpy; prints the relative differences and
exits 1 above 1e-9. Supports the non-saturating, standard and wgan objectives without penalties,
NK penalty, time scales or debiasing parts (the run's plain field).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

torch.set_default_dtype(torch.float64)


class Deconv(nn.ConvTranspose2d):
    """ConvTranspose2d computed as the full transposed convolution (padding 0), cropped by the
    padding and extended by the output padding: the same numbers as nn.ConvTranspose2d, but
    twice differentiable (PyTorch's own double backward refuses output_padding > 0)."""

    def forward(self, x):
        s, p, op, k = self.stride[0], self.padding[0], self.output_padding[0], self.kernel_size[0]
        full = nn.functional.conv_transpose2d(x, self.weight, None, s, 0)
        h = (x.shape[2] - 1) * s - 2 * p + k + op
        w = (x.shape[3] - 1) * s - 2 * p + k + op
        y = full[:, :, p:p + h, p:p + w]
        y = nn.functional.pad(y, (0, w - y.shape[3], 0, h - y.shape[2]))
        return y + self.bias.view(1, -1, 1, 1)


def layers(specs, shape):
    mods = []
    for s in specs:
        t = s["type"]
        count = int(np.prod(shape))
        if t == "dense":
            mods.append(nn.Linear(count, s["out"]))
            if len(shape) > 1:
                mods.insert(len(mods) - 1, nn.Flatten())
            shape = [s["out"]]
        elif t == "conv":
            k, st, p = s["kernel"], s.get("stride", 1), s.get("padding", 0)
            mods.append(nn.Conv2d(shape[0], s["out"], k, st, p))
            shape = [s["out"], (shape[1] + 2 * p - k) // st + 1, (shape[2] + 2 * p - k) // st + 1]
        elif t == "deconv":
            k, st, p, op = s["kernel"], s.get("stride", 1), s.get("padding", 0), s.get("output_padding", 0)
            mods.append(Deconv(shape[0], s["out"], k, st, p, output_padding=op))
            shape = [s["out"], (shape[1] - 1) * st - 2 * p + k + op, (shape[2] - 1) * st - 2 * p + k + op]
        elif t == "reshape":
            mods.append(nn.Unflatten(1, tuple(s["shape"])))
            shape = list(s["shape"])
        elif t == "flatten":
            mods.append(nn.Flatten())
            shape = [count]
        else:
            mods.append({"relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(s.get("slope", 0.01)), "elu": nn.ELU(),
                         "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid(), "softplus": nn.Softplus(),
                         "linear": nn.Identity()}[t])
    return nn.Sequential(*mods), shape


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--gameflow", default=os.path.join(os.path.dirname(__file__), "../../.build/release/gameflow"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    summary = json.load(open(os.path.join(a.run, "summary.json")))
    config = summary["configuration"]
    arch = config["architecture"]
    real = torch.from_numpy(np.load(os.path.join(a.run, "evaluation_real.npy")))
    z = torch.from_numpy(np.load(os.path.join(a.run, "evaluation_latents.npy")))
    G, gshape = layers(arch["generator"], [arch["latent"]])
    D, dshape = layers(arch["discriminator"], list(real.shape[1:]))
    assert list(gshape) == list(real.shape[1:]) and int(np.prod(dshape)) == 1
    x = torch.tensor(json.load(open(os.path.join(a.run, "state.json")))["state"])
    gcount = sum(p.numel() for p in G.parameters())
    dcount = sum(p.numel() for p in D.parameters())
    assert gcount + dcount == x.numel(), (gcount, dcount, x.numel())
    gfirst = config["layout"] == "generator-first"
    utility = config["utility"]
    ls = nn.functional.logsigmoid

    def split(x, net, offset):
        out, o = {}, offset
        for name, p in net.named_parameters():
            out[name] = x[o:o + p.numel()].view(p.shape)
            o += p.numel()
        return out

    def field(x):
        pG = split(x, G, 0 if gfirst else dcount)
        pD = split(x, D, gcount if gfirst else 0)
        fake = functional_call(G, pG, (z,))
        tr = functional_call(D, pD, (real,)).reshape(-1)
        tf = functional_call(D, pD, (fake,)).reshape(-1)
        if utility == "wgan":
            f, g = tr.mean() - tf.mean(), tf.mean()
        else:
            f = ls(tr).mean() + ls(-tf).mean()
            g = ls(tf).mean() if utility == "non-saturating" else -ls(-tf).mean()
        vG = torch.autograd.grad(g, list(pG.values()), create_graph=True)
        vD = torch.autograd.grad(f, list(pD.values()), create_graph=True)
        flat = lambda vs: torch.cat([v.reshape(-1) for v in vs])
        return torch.cat([flat(vG), flat(vD)] if gfirst else [flat(vD), flat(vG)])

    u = torch.from_numpy(np.random.default_rng(a.seed).standard_normal(x.numel()))
    v = field(x.clone().requires_grad_(True))
    _, jvp = torch.autograd.functional.jvp(field, x, u)
    _, vjp = torch.autograd.functional.vjp(field, x, u)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "u.npy")
        np.save(path, u.numpy())
        out = subprocess.run([a.gameflow, "field", "--run", a.run, "--direction", path, "--json"], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    worst = 0.0
    for key, ref in (("v", v), ("jvp", jvp), ("vjp", vjp)):
        ours = np.array(got[key])
        r = ref.detach().numpy()
        diff = np.abs(ours - r).max()
        rel = diff / np.abs(r).max() if diff > 0 else 0.0
        worst = max(worst, rel)
        print(f"{key}: n = {r.size}, max |gameflow − torch| / max |torch| = {rel:.3e}")
    sys.exit(0 if worst <= 1e-9 else 1)


if __name__ == "__main__":
    main()
