"""A `gameflow train` (or `run`) output folder as NumPy arrays."""
import csv
import json
import os

import numpy as np


def read_npy_header(path):
    """(dtype, shape) of a .npy file, read with NumPy's own loader (mmap: no data read)."""
    a = np.load(path, mmap_mode="r")
    return a.dtype, a.shape


def _table(path):
    """A CSV file as a pandas DataFrame when pandas is installed, else a dict of column arrays
    (empty fields become NaN)."""
    try:
        import pandas as pd  # optional
        return pd.read_csv(path)
    except ImportError:
        pass
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    columns = {}
    for j, name in enumerate(header):
        values = [r[j] if j < len(r) else "" for r in body]
        columns[name] = np.array([float(v) if v != "" else np.nan for v in values])
    return columns


class Run:
    """One run folder: `summary` and `configuration` (dicts), `state` (the final parameters as a
    float64 array), `metrics` (metrics.csv), the evaluation batch (`evaluation_real`,
    `evaluation_latents`), `eigenvalues` (complex arrays, when written) and `architecture`."""

    def __init__(self, directory):
        self.directory = directory
        self.summary = self._json("summary.json")
        checkpoint = self._json("checkpoint.json")
        self.configuration = (self.summary or {}).get("configuration") or (checkpoint or {}).get("configuration")
        state = self._json("state.json")
        if state is not None:
            values = state["state"] if isinstance(state, dict) else state
            self.state = np.asarray(values, dtype=np.float64)
            self.networks = state.get("networks") if isinstance(state, dict) else None
        else:
            self.state, self.networks = None, None
        path = os.path.join(directory, "metrics.csv")
        self.metrics = _table(path) if os.path.exists(path) else None
        self.evaluation_real = self._npy("evaluation_real.npy")
        self.evaluation_latents = self._npy("evaluation_latents.npy")
        eig = self._json("eigenvalues.json")
        if eig is not None:
            self.eigenvalues = np.array([complex(a, b) for a, b in eig["eigenvalues"]])
            self.consensus_eigenvalues = np.array([complex(a, b) for a, b in eig["consensus_eigenvalues"]])
        else:
            self.eigenvalues = self.consensus_eigenvalues = None

    @property
    def architecture(self):
        """The run's architecture (latent, generator, discriminator), or None for the MLP GAN."""
        return (self.configuration or {}).get("architecture")

    @property
    def layout(self):
        return (self.configuration or {}).get("layout", "generator-first")

    def _json(self, name):
        path = os.path.join(self.directory, name)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def _npy(self, name):
        path = os.path.join(self.directory, name)
        return np.load(path) if os.path.exists(path) else None


def read_run(directory):
    """The run folder `directory` (see `Run`)."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory} is not a run folder")
    return Run(directory)
