"""Counter-based random numbers: the noise at a step depends on (seed, stream, step), nothing else.

A stateful generator (``numpy.random.default_rng``) gives different numbers when the same
steps are drawn in different chunks, so a live source read every 5 s and the same period
backfilled in one call would disagree. Here every number is a hash of its coordinates
(SplitMix64's finaliser, the mixing step of Random123-style counter generators), vectorised
over numpy ``uint64`` arrays: the value at a timestamp is the same however calls are chunked.
All streams and channels of a step are drawn in one vectorised call.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL_1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL_2 = np.uint64(0x94D049BB133111EB)
_CHANNEL_MUL = np.uint64(0x632BE59BD9B4E019)
_S30, _S27, _S31, _S11 = (np.uint64(k) for k in (30, 27, 31, 11))
_TO_UNIT = 2.0 ** -53


def stream_key(seed: int, name: str) -> int:
    """Return a 64-bit key for the stream ``name`` under ``seed`` (stable across processes)."""
    digest = hashlib.blake2b(f"{int(seed)}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _mix(x: np.ndarray) -> np.ndarray:
    # uint64 arithmetic wraps modulo 2**64 on arrays, which is what the mixer wants.
    x = x + _GOLDEN
    x = (x ^ (x >> _S30)) * _MUL_1
    x = (x ^ (x >> _S27)) * _MUL_2
    return x ^ (x >> _S31)


def uniforms(keys: Sequence[int], counter: np.ndarray, n_channels: int) -> np.ndarray:
    """Return uniforms in (0, 1), shape ``(len(keys), n_channels, len(counter))``.

    Parameters
    ----------
    keys : sequence of int
        Stream keys (``stream_key``), one per stream (service).
    counter : numpy.ndarray
        Integer coordinates, e.g. step indices (int64; negative values are fine).
    n_channels : int
        Independent sub-streams drawn per stream and counter.
    """
    k = np.asarray([int(key) for key in keys], dtype=np.uint64)
    channels = np.arange(n_channels, dtype=np.uint64) * _CHANNEL_MUL
    salt = _mix(k[:, None] ^ channels[None, :])[:, :, None]
    c = np.atleast_1d(np.asarray(counter, dtype=np.int64)).astype(np.uint64)[None, None, :]
    bits = _mix(_mix(c ^ salt) + salt)
    return ((bits >> _S11).astype(np.float64) + 0.5) * _TO_UNIT


def normals(keys: Sequence[int], counter: np.ndarray, n_channels: int) -> np.ndarray:
    """Return standard normal draws, shape ``(len(keys), n_channels, len(counter))`` (Box–Muller)."""
    u = uniforms(keys, counter, 2 * n_channels)
    return np.sqrt(-2.0 * np.log(u[:, 0::2])) * np.cos(2.0 * np.pi * u[:, 1::2])


def smooth_normals(keys: Sequence[int], ts: np.ndarray, period_s: float) -> np.ndarray:
    """Return slowly varying normal-ish signals, shape ``(len(keys), len(ts))``.

    Knots sit on multiples of ``period_s`` in Unix time with linear interpolation between,
    so the value at ``ts`` does not depend on the other timestamps asked for. The knots use
    their own stream (the key's bits inverted), apart from ``normals``.
    """
    pos = np.asarray(ts, dtype=np.float64) / period_s
    knot = np.floor(pos)
    frac = pos - knot
    k = knot.astype(np.int64)
    inverted = [int(key) ^ 0xFFFFFFFFFFFFFFFF for key in keys]
    z = normals(inverted, np.concatenate([k, k + 1]), 1)[:, 0, :]
    n = len(k)
    return (1.0 - frac) * z[:, :n] + frac * z[:, n:]
