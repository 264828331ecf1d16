import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gameflow_io import read_run, state_to_state_dict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GAMEFLOW = os.environ.get("GAMEFLOW", os.path.join(ROOT, ".build", "debug", "gameflow"))
needs_gameflow = pytest.mark.skipif(not os.path.exists(GAMEFLOW), reason="no gameflow binary (swift build, or set GAMEFLOW)")

ARCH = {"latent": 3,
        "generator": [{"type": "dense", "out": 18}, {"type": "reshape", "shape": [2, 3, 3]}, {"type": "tanh"},
                      {"type": "deconv", "out": 1, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1}],
        "discriminator": [{"type": "conv", "out": 2, "kernel": 3, "stride": 2, "padding": 0}, {"type": "elu"},
                          {"type": "flatten"}, {"type": "dense", "out": 1}]}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(0)
    np.save(d / "images.npy", rng.integers(0, 256, size=(30, 6, 6), dtype=np.uint8))
    (d / "arch.json").write_text(json.dumps(ARCH))
    out = d / "out"
    subprocess.run([GAMEFLOW, "train", "--data", str(d / "images.npy"), "--architecture", str(d / "arch.json"),
                    "--scheme", "simga", "--lr", "0.01", "--steps", "6", "--batch", "5", "--every", "2",
                    "--output", str(out), "--quiet"], check=True, capture_output=True)
    return d


@needs_gameflow
def test_read_run(run_dir):
    run = read_run(str(run_dir / "out"))
    assert run.architecture["latent"] == 3
    assert run.state.dtype == np.float64 and run.state.size == run.summary["parameters"]
    assert run.evaluation_real.shape == (5, 1, 6, 6) and run.evaluation_latents.shape == (5, 3)
    # uint8 pixels p are seen as p/127.5 − 1.
    assert run.evaluation_real.min() >= -1 and run.evaluation_real.max() <= 1
    steps = np.asarray(run.metrics["step"])
    # Every 2 steps, plus the snapshots at a quarter and half of the run.
    assert list(steps) == [0, 1, 2, 3, 4, 6]
    sd = state_to_state_dict(run.state, run.architecture, run.summary["sample_shape"], run.layout)
    assert sd["generator.3.weight"].shape == (2, 1, 3, 3)   # ConvTranspose2d (in, out, k, k)
    assert sd["discriminator.0.weight"].shape == (2, 1, 3, 3)


@needs_gameflow
def test_npz_round_trip_through_the_command_line(run_dir, tmp_path):
    out = str(run_dir / "out")
    npz, state = str(tmp_path / "sd.npz"), str(tmp_path / "state.json")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    subprocess.run([sys.executable, "-m", "gameflow_io", "to-npz", out, npz], check=True, env=env)
    subprocess.run([sys.executable, "-m", "gameflow_io", "from-npz", out, npz, state], check=True, env=env)
    assert np.array_equal(np.array(json.load(open(state))["state"]), read_run(out).state)
    # GameFlow reads it back (the networks match) and evaluates the same field there.
    a = json.loads(subprocess.run([GAMEFLOW, "field", "--run", out, "--json"], check=True, capture_output=True, text=True).stdout)
    b = json.loads(subprocess.run([GAMEFLOW, "field", "--run", out, "--state", state, "--json"], check=True, capture_output=True, text=True).stdout)
    assert a["v"] == b["v"]
