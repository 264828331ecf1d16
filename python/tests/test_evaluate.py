"""gameflow evaluate --features raw against the FID and KID formulas computed here with NumPy
(tr((Σ₁Σ₂)^½) from the eigenvalues of the non-symmetric product; SciPy's sqrtm too when installed)."""
import json
import subprocess

import numpy as np
import pytest

from test_run import GAMEFLOW, needs_gameflow


def fid(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    lam = np.linalg.eigvals(s1 @ s2)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(lam.real, 0, None)).sum())


def kid(a, b):
    d = a.shape[1]
    k = lambda x, y: (x @ y.T / d + 1) ** 3
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    m, n = len(a), len(b)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


@needs_gameflow
@pytest.mark.parametrize("d", [3, 12])
def test_raw_features_match_the_formulas(tmp_path, d):
    rng = np.random.default_rng(d)
    l1, l2 = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    a = rng.standard_normal((400, d)) @ l1.T + 0.3
    b = rng.standard_normal((500, d)) @ l2.T - 0.2
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    out = subprocess.run([GAMEFLOW, "evaluate", "--samples", str(tmp_path / "a.npy"), "--reference", str(tmp_path / "b.npy"),
                          "--features", "raw", "--json"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    assert abs(r["fid"] - fid(a, b)) <= 1e-8 * abs(fid(a, b))
    assert abs(r["kid"] - kid(a, b)) <= 1e-10 * abs(kid(a, b))
    # The floor: the reference's first half against its second half.
    assert abs(r["fid_floor"] - fid(b[:250], b[250:])) <= 1e-8 * abs(fid(b[:250], b[250:]))
    try:
        from scipy.linalg import sqrtm
    except ImportError:
        return
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1 + s2 - 2 * sqrtm(s1 @ s2).real)
    assert abs(r["fid"] - ref) <= 1e-8 * abs(ref)
