"""PyTorch (float64) as an independent oracle of GameFlow's field on a run (skipped without torch)."""
import os
import subprocess
import sys

import pytest

from test_run import GAMEFLOW, ROOT, needs_gameflow, run_dir  # noqa: F401 (the fixture)

torch = pytest.importorskip("torch")


@needs_gameflow
def test_field_matches_pytorch(run_dir):  # noqa: F811
    script = os.path.join(ROOT, "python", "tools", "torch_field_oracle.py")
    r = subprocess.run([sys.executable, script, str(run_dir / "out"), "--gameflow", GAMEFLOW], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
