"""GameFlow's flat GAN state <-> PyTorch-style state dicts, from an architecture."""
import numpy as np

#: The built-in dcgan28 architecture, as `gameflow train --architecture dcgan28` uses it.
DCGAN28 = {
    "latent": 64,
    "generator": [{"type": "dense", "out": 3136}, {"type": "reshape", "shape": [64, 7, 7]}, {"type": "relu"},
                  {"type": "deconv", "out": 32, "kernel": 4, "stride": 2, "padding": 1, "output_padding": 0}, {"type": "relu"},
                  {"type": "deconv", "out": 1, "kernel": 4, "stride": 2, "padding": 1, "output_padding": 0}, {"type": "tanh"}],
    "discriminator": [{"type": "conv", "out": 32, "kernel": 4, "stride": 2, "padding": 1}, {"type": "leaky_relu", "slope": 0.2},
                      {"type": "conv", "out": 64, "kernel": 4, "stride": 2, "padding": 1}, {"type": "leaky_relu", "slope": 0.2},
                      {"type": "flatten"}, {"type": "dense", "out": 1}],
}


def layer_shapes(layers, input_shape):
    """[(index, weight shape, bias shape)] of the layers with parameters, and the output shape,
    by PyTorch's arithmetic (Linear, Conv2d, ConvTranspose2d)."""
    shape = list(input_shape)
    out = []
    for i, s in enumerate(layers):
        t = s["type"]
        count = int(np.prod(shape))
        if t == "dense":
            out.append((i, (s["out"], count), (s["out"],)))
            shape = [s["out"]]
        elif t == "conv":
            k, st, p = s["kernel"], s.get("stride", 1), s.get("padding", 0)
            out.append((i, (s["out"], shape[0], k, k), (s["out"],)))
            shape = [s["out"], (shape[1] + 2 * p - k) // st + 1, (shape[2] + 2 * p - k) // st + 1]
        elif t == "deconv":
            k, st, p, op = s["kernel"], s.get("stride", 1), s.get("padding", 0), s.get("output_padding", 0)
            out.append((i, (shape[0], s["out"], k, k), (s["out"],)))
            shape = [s["out"], (shape[1] - 1) * st - 2 * p + k + op, (shape[2] - 1) * st - 2 * p + k + op]
        elif t == "reshape":
            if int(np.prod(s["shape"])) != count:
                raise ValueError(f"layer {i}: reshape to {s['shape']} needs {count} numbers")
            shape = list(s["shape"])
        elif t == "flatten":
            shape = [count]
    return out, shape


def _networks(architecture, sample_shape):
    g, g_out = layer_shapes(architecture["generator"], [architecture["latent"]])
    if int(np.prod(g_out)) != int(np.prod(sample_shape)):
        raise ValueError(f"the generator outputs {g_out}, the samples are {list(sample_shape)}")
    d, _ = layer_shapes(architecture["discriminator"], sample_shape)
    return g, d


def _count(layers):
    return sum(int(np.prod(w)) + int(np.prod(b)) for _, w, b in layers)


def state_to_state_dict(state, architecture, sample_shape, layout="generator-first"):
    """GameFlow's flat state -> {"generator.i.weight": array, ...} in PyTorch's layouts."""
    state = np.asarray(state, dtype=np.float64)
    g, d = _networks(architecture, sample_shape)
    if state.size != _count(g) + _count(d):
        raise ValueError(f"the state has {state.size} numbers, the architecture {_count(g) + _count(d)}")
    order = [("generator", g), ("discriminator", d)]
    if layout == "discriminator-first":
        order.reverse()
    out, o = {}, 0
    for name, layers in order:
        for i, w, b in layers:
            for kind, shape in (("weight", w), ("bias", b)):
                n = int(np.prod(shape))
                out[f"{name}.{i}.{kind}"] = state[o:o + n].reshape(shape).copy()
                o += n
    return out


def state_dict_to_state(state_dict, architecture, sample_shape, layout="generator-first"):
    """{"generator.i.weight": array, ...} (shapes checked) -> GameFlow's flat float64 state."""
    g, d = _networks(architecture, sample_shape)
    order = [("generator", g), ("discriminator", d)]
    if layout == "discriminator-first":
        order.reverse()
    parts = []
    for name, layers in order:
        for i, w, b in layers:
            for kind, shape in (("weight", w), ("bias", b)):
                key = f"{name}.{i}.{kind}"
                if key not in state_dict:
                    raise KeyError(f"the state dict has no '{key}'")
                a = np.asarray(state_dict[key], dtype=np.float64)
                if a.shape != tuple(shape):
                    raise ValueError(f"'{key}' has shape {a.shape}, the architecture needs {tuple(shape)}")
                parts.append(a.reshape(-1))
    return np.concatenate(parts)


def save_state_dict(path, state_dict):
    """numpy.savez of the state dict (names as keys)."""
    np.savez(path, **state_dict)


def load_state_dict(path):
    """A state dict saved by `save_state_dict` (or numpy.savez of a torch state dict's arrays)."""
    with np.load(path) as f:
        return {k: f[k] for k in f.files}
