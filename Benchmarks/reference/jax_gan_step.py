"""JAX reference for `gameflow-bench gan-step`: the same ring8 MLP GAN step, timed the same way.

The workload mirrors GameFlow's gan-step: generator latent 16 -> 4 x 16 ReLU -> 2, discriminator
2 -> 4 x 16 ReLU -> 1 (Xavier-uniform weights, zero biases), batch 512 (real samples from the
8-Gaussian ring, sigma 0.01, and standard-normal latents drawn inside the step), non-saturating
generator, RMSProp with the reference code's semantics (decay 0.9, eps 1e-10, accumulator 1),
lr 1e-4. Players maximise: v = (grad_phi f, grad_theta g); consensus uses w = v - gamma * v'^T v
with v'^T v = grad(1/2 |v|^2) by reverse-over-reverse (jax.vjp of the field at v; the
reference implementation's double backprop, with v computed once).

Single thread, as GameFlow's numbers:
    XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1" \
        taskset -c 0 python3 Benchmarks/reference/jax_gan_step.py [--x64]
Prints the median ms per step of 7 repeats x 500 steps, for one jit call per step and for
100 steps per call (lax.scan), for SimGA and consensus.
"""
import argparse
import statistics
import time

import jax
import jax.numpy as jnp

p = argparse.ArgumentParser()
p.add_argument("--x64", action="store_true", help="double precision (GameFlow's precision)")
p.add_argument("--steps", type=int, default=500)
p.add_argument("--repeats", type=int, default=7)
p.add_argument("--gamma", type=float, default=10.0)
p.add_argument("--batch", type=int, default=512)
args = p.parse_args()
jax.config.update("jax_enable_x64", args.x64)
dtype = jnp.float64 if args.x64 else jnp.float32

LATENT, HIDDEN, DEPTH, B, LR = 16, 16, 4, args.batch, 1e-4
angles = 2 * jnp.pi * jnp.arange(8) / 8
MEANS = jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=1).astype(dtype)


def init_mlp(key, widths):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        key, k = jax.random.split(key)
        lim = (6.0 / (a + b)) ** 0.5
        layers.append((jax.random.uniform(k, (a, b), dtype, -lim, lim), jnp.zeros((b,), dtype)))
    return layers


def mlp(layers, x):
    for w, b in layers[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = layers[-1]
    return x @ w + b


def batch(step):
    key = jax.random.fold_in(jax.random.PRNGKey(0), step)
    k1, k2, k3 = jax.random.split(key, 3)
    modes = jax.random.randint(k1, (B,), 0, 8)
    real = MEANS[modes] + 0.01 * jax.random.normal(k2, (B, 2), dtype)
    z = jax.random.normal(k3, (B, LATENT), dtype)
    return real, z


def field(params, real, z):
    d, g = params
    def f(d):   # discriminator's utility: log sigma(D(x)) + log(1 - sigma(D(G(z))))
        return jnp.mean(jax.nn.log_sigmoid(mlp(d, real))) + jnp.mean(jax.nn.log_sigmoid(-mlp(d, mlp(g, z))))
    def gu(g):  # non-saturating generator: log sigma(D(G(z)))
        return jnp.mean(jax.nn.log_sigmoid(mlp(d, mlp(g, z))))
    return (jax.grad(f)(d), jax.grad(gu)(g))


def direction(params, step, consensus):
    real, z = batch(step)
    if not consensus:
        return field(params, real, z)
    v, pullback = jax.vjp(lambda p: field(p, real, z), params)
    (vtv,) = pullback(v)   # v'^T v = grad of 1/2 |v|^2, with v computed once
    return jax.tree_util.tree_map(lambda a, b: a - args.gamma * b, v, vtv)


def make_step(consensus):
    def step(state, i):
        params, acc = state
        w = direction(params, i, consensus)
        acc = jax.tree_util.tree_map(lambda s, d: 0.9 * s + 0.1 * d * d, acc, w)
        params = jax.tree_util.tree_map(lambda x, d, s: x + LR * d / jnp.sqrt(s + 1e-10), params, w, acc)
        return (params, acc), None
    return step


def timed(fn, state, calls, steps_per_call):
    state = fn(state, 0)
    jax.block_until_ready(state)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for c in range(calls):
            state = fn(state, c * steps_per_call)
        jax.block_until_ready(state)
        times.append((time.perf_counter() - t0) * 1e3 / (calls * steps_per_call))
    return statistics.median(times), min(times)


key = jax.random.PRNGKey(1)
kd, kg = jax.random.split(key)
params = (init_mlp(kd, [2] + [HIDDEN] * DEPTH + [1]), init_mlp(kg, [LATENT] + [HIDDEN] * DEPTH + [2]))
state0 = (params, jax.tree_util.tree_map(jnp.ones_like, params))
print(f"jax {jax.__version__}, {'float64' if args.x64 else 'float32'}, backend {jax.default_backend()}, batch {B}")
for name, consensus in (("simga", False), ("consensus", True)):
    step = make_step(consensus)
    one = jax.jit(lambda s, i: step(s, i)[0], donate_argnums=0)
    many = jax.jit(lambda s, i: jax.lax.scan(step, s, i + jnp.arange(100))[0], donate_argnums=0)
    med1, min1 = timed(one, jax.tree_util.tree_map(jnp.copy, state0), args.steps, 1)
    med100, min100 = timed(many, jax.tree_util.tree_map(jnp.copy, state0), max(1, args.steps // 100), 100)
    print(f"  {name:<10} {med1:.4f} ms/step one step per call (min {min1:.4f}); "
          f"{med100:.4f} ms/step 100 steps per call (min {min100:.4f})")
