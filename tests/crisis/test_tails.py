"""Count-model tails against SciPy, and the equivalent z-score."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from groundswell.crisis.tails import Z_CAP, binomial_log_sf, nb_log_sf, z_from_log_p


@pytest.mark.parametrize(
    ("k", "mu", "alpha"),
    [
        (1, 0.3, 0.0),
        (9, 3.0, 0.0),
        (18, 6.0, 0.0),
        (45, 15.0, 0.05),
        (300, 100.0, 0.04),
        (5, 0.01, 0.0),
        (1000, 100.0, 0.01),
        (12, 2.0, 1.5),
    ],
)
def test_negative_binomial_tail_matches_scipy(k: int, mu: float, alpha: float) -> None:
    if alpha == 0.0:
        expected = stats.poisson.logsf(k - 1, mu)
    else:
        r = 1 / alpha
        expected = stats.nbinom.logsf(k - 1, r, r / (r + mu))
    assert nb_log_sf(k, mu, alpha) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(("k", "n", "p"), [(30, 50, 0.3), (1, 1, 0.5), (90, 100, 0.2)])
def test_binomial_tail_matches_scipy(k: int, n: int, p: float) -> None:
    assert binomial_log_sf(k, n, p) == pytest.approx(stats.binom.logsf(k - 1, n, p), rel=1e-8)


def test_edges() -> None:
    assert nb_log_sf(0, 5.0, 0.0) == 0.0
    assert nb_log_sf(3, 0.0, 0.0) == -math.inf
    assert binomial_log_sf(5, 4, 0.5) == -math.inf
    assert binomial_log_sf(2, 4, 1.0) == 0.0


def test_z_score_is_the_normal_quantile_and_keeps_growing_past_double_precision() -> None:
    assert z_from_log_p(math.log(0.5)) == pytest.approx(0.0, abs=1e-9)
    assert z_from_log_p(math.log(stats.norm.sf(4.0))) == pytest.approx(4.0, rel=1e-6)
    deep = [z_from_log_p(-x) for x in (600.0, 800.0, 2000.0, 4000.0)]
    assert deep == sorted(deep)
    assert deep[1] == pytest.approx(math.sqrt(2 * 800), rel=0.05)
    assert z_from_log_p(-1e9) == Z_CAP
    assert z_from_log_p(0.0) == -Z_CAP
