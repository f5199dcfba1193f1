"""Exact and floating-point samplers of the integer noise that differential privacy adds.

Released campaign statistics are sums of fixed-point integers computed under Paillier
encryption, so the noise must be an integer that can itself be encrypted and added. This
module holds the random draws only; what scale to draw at is :mod:`fedcarbon.privacy.calibration`
and what error the draws cause is :mod:`fedcarbon.privacy.accuracy`.

* :func:`sample_discrete_laplace` is an exact sampler of the discrete Laplace distribution
  ``P[X = x] = (e^(1/t) - 1) / (e^(1/t) + 1) * e^(-|x|/t)``, Algorithm 2 of
  C. L. Canonne, G. Kamath, T. Steinke, "The Discrete Gaussian for Differential Privacy",
  NeurIPS 2020 (arXiv:2004.00010). It uses only integer and rational arithmetic and uniform
  integers from :mod:`secrets`, which avoids the floating-point attacks of I. Mironov, "On
  Significance of the Least Significant Bits for Differential Privacy", ACM CCS 2012.
* :func:`sample_polya` draws the Polya (negative binomial) variables ``NB(r, a)`` that
  distributed noise shares are made of: the discrete Laplace with ``a = e^(-1/t)`` is the
  difference of two i.i.d. geometric variables, and a geometric variable is the sum of ``h``
  i.i.d. ``NB(1/h, a)`` (S. Goryczka and L. Xiong, "A Comprehensive Comparison of Multiparty
  Secure Additions with Differential Privacy", IEEE TDSC 2017; C. Harrison and
  P. Manurangsi, "Infinitely Divisible Noise for Differential Privacy", FORC 2025). It is
  drawn through :func:`sample_poisson` (Knuth; Hormann 1993).
* :func:`default_rng`, the operating system's CSPRNG every sampler falls back to.

Precision caveat (stated honestly): a Polya variable with non-integer shape is sampled as a
gamma-Poisson mixture, ``NB(r, a) = Poisson(Gamma(r, a / (1 - a)))``, and both the gamma and
the Poisson draw use IEEE doubles. The distributed sum is therefore discrete Laplace only up
to floating-point error, and the pure epsilon-DP proof covers exactly the single-party sampler
:func:`sample_discrete_laplace` (used automatically when one share must carry all the noise).
Shares refuse scales above ``2**48`` integer units, where doubles stop resolving single units
(:data:`fedcarbon.privacy.calibration.MAX_SHARE_SCALE`).
"""

from __future__ import annotations

import math
import random
import secrets

from fedcarbon.privacy.errors import NoiseParameterError

#: Below this Poisson mean the multiplication method is used; above, transformed rejection.
_POISSON_PTRS_THRESHOLD = 10.0


def default_rng() -> random.Random:
    """The operating system's CSPRNG; noise must never come from a seeded generator."""
    return secrets.SystemRandom()


# --- exact sampling (Canonne, Kamath, Steinke 2020) -------------------------------------------


def _bernoulli(num: int, den: int, rng: random.Random) -> bool:
    """Exact Bernoulli(num/den): a uniform integer below den falls below num."""
    return rng.randrange(den) < num


def _bernoulli_exp_at_most_one(num: int, den: int, rng: random.Random) -> bool:
    """Exact Bernoulli(exp(-num/den)) for 0 <= num/den <= 1; CKS 2020 Algorithm 1 (von Neumann).

    Draws A_k ~ Bernoulli(gamma/k) for k = 1, 2, ... until one is 0; the index K at which the
    run stops is odd with probability exactly exp(-gamma).
    """
    k = 1
    while _bernoulli(num, den * k, rng):
        k += 1
    return k % 2 == 1


def sample_discrete_laplace(
    scale_num: int, scale_den: int = 1, rng: random.Random | None = None
) -> int:
    """One exact draw with P[x] proportional to exp(-|x|/t), t = scale_num / scale_den.

    Algorithm 2 of Canonne, Kamath, Steinke 2020 (inputs s = scale_den, t = scale_num): draw
    U uniform on {0..t-1} accepted with probability exp(-U/t), V geometric with ratio 1/e,
    X = U + t*V is then geometric with ratio exp(-1/t); Y = floor(X/s) is geometric with ratio
    exp(-s/t); a fair sign is attached and the draw (negative, 0) is rejected so that 0 is not
    counted twice. Integer arithmetic only, so no floating-point porosity (Mironov 2012).
    """
    if scale_num < 1 or scale_den < 1:
        raise NoiseParameterError(
            "scale", f"{scale_num}/{scale_den}", "numerator and denominator must be >= 1"
        )
    rng = rng if rng is not None else default_rng()
    t, s = scale_num, scale_den
    while True:
        u = rng.randrange(t)
        if not _bernoulli_exp_at_most_one(u, t, rng):
            continue
        v = 0
        while _bernoulli_exp_at_most_one(1, 1, rng):
            v += 1
        y = (u + t * v) // s
        negative = rng.randrange(2) == 1
        if negative and y == 0:
            continue
        return -y if negative else y


# --- Polya shares (floating point, see module caveat) -----------------------------------------


def sample_poisson(mean: float, rng: random.Random | None = None) -> int:
    """One Poisson(mean) draw in double precision.

    Small means use Knuth's multiplication method (TAOCP vol. 2, 3.4.1); means of 10 and more
    use W. Hormann, "The transformed rejection method for generating Poisson random variables",
    Insurance: Mathematics and Economics 12 (1993), algorithm PTRS, whose cost does not grow
    with the mean. The log-pmf in the acceptance test is evaluated in a cancellation-free form
    (Stirling series around k with log1p) so that means up to 2**48 stay accurate.
    """
    if not math.isfinite(mean) or mean < 0:
        raise NoiseParameterError("mean", mean, "a Poisson mean must be finite and >= 0")
    rng = rng if rng is not None else default_rng()
    if mean < _POISSON_PTRS_THRESHOLD:
        limit = math.exp(-mean)
        k = 0
        product = rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k
    return _sample_poisson_ptrs(mean, rng)


def _poisson_log_pmf(k: int, mean: float) -> float:
    """log P[Poisson(mean) = k] without the catastrophic cancellation of the naive formula."""
    if k < 10:
        return -mean + k * math.log(mean) - math.lgamma(k + 1)
    # log k! = k log k - k + log(2 pi k)/2 + 1/(12k) - 1/(360k^3) + O(k^-5), so
    # log pmf = (k - mean) - k log1p((k - mean)/mean) - log(2 pi k)/2 - 1/(12k) + 1/(360k^3).
    kf = float(k)
    return (
        (kf - mean)
        - kf * math.log1p((kf - mean) / mean)
        - 0.5 * math.log(2.0 * math.pi * kf)
        - 1.0 / (12.0 * kf)
        + 1.0 / (360.0 * kf**3)
    )


def _sample_poisson_ptrs(mean: float, rng: random.Random) -> int:
    """Hormann 1993 PTRS (transformed rejection with squeeze), valid for mean >= 10."""
    root = math.sqrt(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    log_inv_alpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        if us <= 0.0:
            continue
        k = math.floor((2.0 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us) or v <= 0.0:
            continue
        if math.log(v) + log_inv_alpha - math.log(a / (us * us) + b) <= _poisson_log_pmf(k, mean):
            return k


def sample_polya(shape: float, decay: float, rng: random.Random | None = None) -> int:
    """One Polya / negative binomial draw, P[k] proportional to Gamma(k + shape)/k! * a^k.

    Here ``a = exp(-decay)``. Drawn as the gamma-Poisson mixture (Greenwood and Yule 1920):
    lambda ~ Gamma(shape, a/(1-a)), k ~ Poisson(lambda); ``a/(1-a)`` is computed as
    ``1/expm1(decay)`` so that a close to 1 keeps full precision. Floating point: see module.
    """
    if not (math.isfinite(shape) and shape > 0):
        raise NoiseParameterError("shape", shape, "must be finite and > 0")
    if not (math.isfinite(decay) and decay > 0):
        raise NoiseParameterError("decay", decay, "must be finite and > 0")
    rng = rng if rng is not None else default_rng()
    gamma_scale = 1.0 / math.expm1(decay)
    return sample_poisson(rng.gammavariate(shape, gamma_scale), rng)
