"""Upper-tail probabilities of count models, in log space, and their equivalent z-scores.

Pure standard library. Used by the spike detector: a window that holds ``k`` posts where the
baseline expects ``mu`` is scored by ``P(X >= k)`` under a negative binomial with mean ``mu``
and variance ``mu + alpha * mu**2`` (``alpha = 0`` is Poisson), and a share of negative posts
by a binomial tail. Exact tails (not a normal approximation) matter at the low counts of
night hours and quiet topics, where ``(k - mu) / sqrt(mu)`` would overstate surprise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

_NORMAL = NormalDist()
# Sums stop when the rest of the tail is below this share of what is summed so far.
_REL_TOL = 1e-10
_MAX_TERMS = 200_000
# Scores are capped: beyond this nothing is "more certain" in a useful sense.
Z_CAP = 99.0


def _log_tail(log_first: float, ratio: Callable[[int], float], k: int, limit: float) -> float:
    """``log_first + log(1 + r_k + r_k r_{k+1} + ...)`` where ``r_j = pmf(j+1) / pmf(j)``.

    ``limit`` bounds the ratios from above for large ``j`` (their limit); the remainder after
    the last term is bounded by the geometric series with ratio ``max(r_j, limit)``.
    """
    total = 1.0
    term = 1.0
    j = k
    for _ in range(_MAX_TERMS):
        r = ratio(j)
        if r <= 0.0:
            break
        term *= r
        j += 1
        total += term
        bound = max(r, limit)
        if bound < 1.0 and term * bound / (1.0 - bound) < _REL_TOL * total:
            break
    return log_first + math.log(total)


def nb_log_sf(k: int, mu: float, alpha: float) -> float:
    """``log P(X >= k)`` for X negative binomial with mean ``mu``, variance ``mu + alpha mu^2``.

    ``alpha <= 1e-9`` is treated as Poisson. ``k <= 0`` gives 0.0 (probability 1); ``mu <= 0``
    with ``k > 0`` gives ``-inf``. Precondition: ``mu`` and ``alpha`` finite.
    """
    if k <= 0:
        return 0.0
    if mu <= 0.0:
        return -math.inf
    if alpha <= 1e-9:
        log_first = k * math.log(mu) - mu - math.lgamma(k + 1)
        return min(0.0, _log_tail(log_first, lambda j: mu / (j + 1), k, 0.0))
    r = 1.0 / alpha
    q = mu / (r + mu)
    log_first = (
        math.lgamma(k + r)
        - math.lgamma(r)
        - math.lgamma(k + 1)
        + r * math.log(r / (r + mu))
        + k * math.log(q)
    )
    return min(0.0, _log_tail(log_first, lambda j: (j + r) / (j + 1) * q, k, q))


def binomial_log_sf(k: int, n: int, p: float) -> float:
    """``log P(X >= k)`` for X binomial(n, p). Precondition: ``0 <= p <= 1``, ``n >= 0``."""
    if k <= 0:
        return 0.0
    if k > n or p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return 0.0
    odds = p / (1.0 - p)
    log_first = (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )
    return min(0.0, _log_tail(log_first, lambda j: (n - j) / (j + 1) * odds, k, 0.0))


def z_from_log_p(log_p: float) -> float:
    """The one-sided standard-normal score with the same upper-tail probability, capped at
    `Z_CAP`. Tiny probabilities (below double precision) use the asymptotic inverse of Mills'
    ratio, so scores keep growing instead of saturating at about 38."""
    if log_p >= 0.0:
        return -Z_CAP
    if log_p > -700.0:
        return _z_of_p(math.exp(log_p))
    y = -2.0 * log_p
    z = math.sqrt(y)
    for _ in range(3):
        z = math.sqrt(max(y - 2.0 * math.log(z) - math.log(2.0 * math.pi), 1.0))
    return min(z, Z_CAP)


def _z_of_p(p: float) -> float:
    if p >= 1.0:
        return -Z_CAP
    return max(-Z_CAP, min(Z_CAP, -_NORMAL.inv_cdf(p)))
