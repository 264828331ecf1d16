import numpy as np
import pytest

from gameflow_io import DCGAN28, layer_shapes, state_dict_to_state, state_to_state_dict


def test_dcgan28_shapes_are_pytorchs():
    g, out = layer_shapes(DCGAN28["generator"], [64])
    assert out == [1, 28, 28]
    # Linear (out, in); ConvTranspose2d (in, out, k, k).
    assert [w for _, w, _ in g] == [(3136, 64), (64, 32, 4, 4), (32, 1, 4, 4)]
    d, out = layer_shapes(DCGAN28["discriminator"], [1, 28, 28])
    assert out == [1]
    # Conv2d (out, in, k, k); the dense layer reads 64·7·7 numbers.
    assert [w for _, w, _ in d] == [(32, 1, 4, 4), (64, 32, 4, 4), (1, 3136)]
    total = sum(int(np.prod(w)) + int(np.prod(b)) for _, w, b in g + d)
    assert total == 273_666


@pytest.mark.parametrize("layout", ["generator-first", "discriminator-first"])
def test_state_round_trip_and_order(layout):
    x = np.arange(273_666, dtype=np.float64)
    sd = state_to_state_dict(x, DCGAN28, [1, 28, 28], layout)
    assert list(sd)[0].startswith("generator." if layout == "generator-first" else "discriminator.")
    assert sd["generator.0.weight"].shape == (3136, 64)
    assert sd["discriminator.5.bias"].shape == (1,)
    # Row-major weight then bias, layer after layer.
    first = sd["generator.0.weight"] if layout == "generator-first" else sd["discriminator.0.weight"]
    assert first.reshape(-1)[:3].tolist() == [0.0, 1.0, 2.0]
    back = state_dict_to_state(sd, DCGAN28, [1, 28, 28], layout)
    assert np.array_equal(back, x)


def test_bad_state_dicts_are_refused():
    x = np.zeros(273_666)
    sd = state_to_state_dict(x, DCGAN28, [1, 28, 28])
    good = sd["generator.3.weight"]
    sd["generator.3.weight"] = np.zeros((32, 64, 4, 4))  # Conv2d's layout, not ConvTranspose2d's
    with pytest.raises(ValueError, match="generator.3.weight"):
        state_dict_to_state(sd, DCGAN28, [1, 28, 28])
    sd["generator.3.weight"] = good
    del sd["discriminator.0.bias"]
    with pytest.raises(KeyError):
        state_dict_to_state(sd, DCGAN28, [1, 28, 28])
    with pytest.raises(ValueError, match="numbers"):
        state_to_state_dict(np.zeros(5), DCGAN28, [1, 28, 28])
    with pytest.raises(ValueError, match="generator outputs"):
        state_to_state_dict(x, DCGAN28, [1, 32, 32])
