"""PyTorch (eager) reference for `gameflow-bench gan-step`: the same ring8 MLP GAN step as
jax_gan_step.py, timed the same way.

Workload: generator latent 16 -> 4 x 16 ReLU -> 2, discriminator 2 -> 4 x 16 ReLU -> 1
(Xavier-uniform weights, zero biases), batch 512 (real samples from the 8-Gaussian ring, sigma
0.01, and standard-normal latents drawn inside the step), non-saturating generator, RMSProp with
the reference code's semantics (decay 0.9, eps 1e-10, accumulator 1), lr 1e-4. Players
maximise: v = (grad_phi f, grad_theta g); consensus uses w = v - gamma * v'^T v with
v'^T v = grad of <v, u> at u = v (double backprop through the field built with create_graph,
v computed once) -- the reference implementation's construction.

With --architecture dcgan28: GameFlow's dcgan28 (LayerSpec.swift; PyTorch's layouts and conv
arithmetic, which GameFlow follows) on Fashion-MNIST scaled to [-1, 1] (Debian's
dataset-fashion-mnist), batch 64: G z in R^64 -> dense 3136 -> (64, 7, 7) -> relu -> deconv 32
(k4 s2 p1) -> relu -> deconv 1 (k4 s2 p1) -> tanh; D conv 32 (k4 s2 p1) -> leaky relu 0.2 -> conv 64
(k4 s2 p1) -> leaky relu 0.2 -> flatten -> dense 1. Same utilities, RMSProp and consensus.

Single thread, as GameFlow's numbers:
    taskset -c 0 python3 Benchmarks/reference/torch_gan_step.py [--float64]
    taskset -c 0 python3 Benchmarks/reference/torch_gan_step.py --architecture dcgan28 --steps 10 --repeats 5 --warmup 2
Prints the median (and minimum) ms per step of the repeats for SimGA and consensus.
"""
import argparse
import math
import statistics
import time

import torch

p = argparse.ArgumentParser()
p.add_argument("--float64", action="store_true", help="double precision (GameFlow's precision)")
p.add_argument("--steps", type=int, default=500)
p.add_argument("--repeats", type=int, default=7)
p.add_argument("--warmup", type=int, default=50)
p.add_argument("--gamma", type=float, default=10.0)
p.add_argument("--batch", type=int, default=None, help="default 512 (mlp), 64 (dcgan28)")
p.add_argument("--architecture", choices=["mlp", "dcgan28"], default="mlp")
p.add_argument("--threads", type=int, default=1)
args = p.parse_args()
if args.batch is None:
    args.batch = 512 if args.architecture == "mlp" else 64
torch.set_num_threads(args.threads)
dtype = torch.float64 if args.float64 else torch.float32

LATENT, HIDDEN, DEPTH, B, LR = 16, 16, 4, args.batch, 1e-4
angles = 2 * math.pi * torch.arange(8, dtype=dtype) / 8
MEANS = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)


def init_mlp(gen, widths):
    params = []
    for a, b in zip(widths[:-1], widths[1:]):
        lim = (6.0 / (a + b)) ** 0.5
        w = (torch.rand((a, b), generator=gen, dtype=dtype) * 2 - 1) * lim
        params += [w.requires_grad_(), torch.zeros(b, dtype=dtype, requires_grad=True)]
    return params


def mlp(params, x):
    n = len(params) // 2
    for i in range(n):
        x = torch.addmm(params[2 * i + 1], x, params[2 * i])
        if i < n - 1:
            x = torch.relu(x)
    return x


def fashion_mnist():
    import gzip
    import os
    path = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
    if not os.path.exists(path):
        raise SystemExit(f"{path} does not exist (apt-get install dataset-fashion-mnist)")
    with gzip.open(path) as f:
        raw = f.read()
    images = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).reshape(-1, 1, 28, 28)
    return images.to(dtype) / 127.5 - 1


def init_dcgan(gen):
    def uniform(shape, fan_in, fan_out):
        lim = (6.0 / (fan_in + fan_out)) ** 0.5
        return ((torch.rand(shape, generator=gen, dtype=dtype) * 2 - 1) * lim).requires_grad_()
    def zeros(n):
        return torch.zeros(n, dtype=dtype, requires_grad=True)
    g = [uniform((3136, 64), 64, 3136), zeros(3136),
         uniform((64, 32, 4, 4), 32 * 16, 64 * 16), zeros(32),      # conv_transpose weight: (in, out, k, k)
         uniform((32, 1, 4, 4), 1 * 16, 32 * 16), zeros(1)]
    d = [uniform((32, 1, 4, 4), 16, 32 * 16), zeros(32),
         uniform((64, 32, 4, 4), 32 * 16, 64 * 16), zeros(64),
         uniform((1, 64 * 7 * 7), 64 * 49, 1), zeros(1)]
    return d, g


def generator_dcgan(g, z):
    F = torch.nn.functional
    x = F.linear(z, g[0], g[1]).reshape(-1, 64, 7, 7).relu()
    x = F.conv_transpose2d(x, g[2], g[3], stride=2, padding=1).relu()
    return torch.tanh(F.conv_transpose2d(x, g[4], g[5], stride=2, padding=1))


def discriminator_dcgan(d, x):
    F = torch.nn.functional
    x = F.leaky_relu(F.conv2d(x, d[0], d[1], stride=2, padding=1), 0.2)
    x = F.leaky_relu(F.conv2d(x, d[2], d[3], stride=2, padding=1), 0.2)
    return F.linear(x.flatten(1), d[4], d[5])


IMAGES = fashion_mnist() if args.architecture == "dcgan28" else None
G_NET = mlp if args.architecture == "mlp" else generator_dcgan
D_NET = mlp if args.architecture == "mlp" else discriminator_dcgan


def batch(gen):
    if IMAGES is not None:
        idx = torch.randint(0, IMAGES.shape[0], (B,), generator=gen)
        return IMAGES[idx], torch.randn((B, 64), generator=gen, dtype=dtype)
    modes = torch.randint(0, 8, (B,), generator=gen)
    real = MEANS[modes] + 0.01 * torch.randn((B, 2), generator=gen, dtype=dtype)
    z = torch.randn((B, LATENT), generator=gen, dtype=dtype)
    return real, z


def field(d, g, real, z, create_graph):
    fake = G_NET(g, z)
    d_fake = D_NET(d, fake)
    # discriminator's utility: log sigma(D(x)) + log(1 - sigma(D(G(z)))); generator's: log sigma(D(G(z)))
    f = torch.nn.functional.logsigmoid(D_NET(d, real)).mean() + torch.nn.functional.logsigmoid(-d_fake).mean()
    gu = torch.nn.functional.logsigmoid(d_fake).mean()
    vd = torch.autograd.grad(f, d, create_graph=create_graph, retain_graph=True)
    vg = torch.autograd.grad(gu, g, create_graph=create_graph)
    return list(vd) + list(vg)


def step(d, g, acc, gen, consensus):
    real, z = batch(gen)
    params = d + g
    if consensus:
        v = field(d, g, real, z, create_graph=True)
        u = [t.detach() for t in v]
        vtv = torch.autograd.grad(v, params, grad_outputs=u)   # v'^T v, v computed once
        w = [a - args.gamma * b for a, b in zip(u, vtv)]
    else:
        w = field(d, g, real, z, create_graph=False)
    with torch.no_grad():
        for x, s, dw in zip(params, acc, w):
            s.mul_(0.9).addcmul_(dw, dw, value=0.1)
            x.addcdiv_(dw, (s + 1e-10).sqrt_(), value=LR)


def timed(consensus):
    gen = torch.Generator().manual_seed(1)
    if args.architecture == "dcgan28":
        d, g = init_dcgan(gen)
    else:
        d = init_mlp(gen, [2] + [HIDDEN] * DEPTH + [1])
        g = init_mlp(gen, [LATENT] + [HIDDEN] * DEPTH + [2])
    acc = [torch.ones_like(x, requires_grad=False) for x in d + g]
    for _ in range(args.warmup):
        step(d, g, acc, gen, consensus)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step(d, g, acc, gen, consensus)
        times.append((time.perf_counter() - t0) * 1e3 / args.steps)
    return statistics.median(times), min(times)


print(f"torch {torch.__version__}, {args.architecture}, {'float64' if args.float64 else 'float32'}, eager, "
      f"{torch.get_num_threads()} thread(s), batch {B}")
for name, consensus in (("simga", False), ("consensus", True)):
    med, mn = timed(consensus)
    print(f"  {name:<10} {med:.4f} ms/step (min {mn:.4f})")
