"""Random numbers keyed by what they are for: (seed, stream, start, step, draw, coordinate).

Every random draw of a run (Santa's noise, noisy gradients) is a pure function of its key,
computed by the counter-based generator Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel
random numbers: as easy as 1, 2, 3", SC 2011) and turned into a standard normal by Box–Muller.
So a point's draws never depend on how many other points share the run or in which order they
are stepped, threads and GPUs give the same numbers, and a chunk of the starts run on another
machine draws exactly what it would have drawn in one big run.

The key of a draw:

- Philox key: the run's ``seed`` (or the point's own seed) mixed with a ``stream`` (one per
  optimizer for its own noise, one shared by all optimizers for gradient noise, so that every
  optimizer at the same start and step sees the same gradient noise);
- counter: the step ``t``, the draw index and the coordinate pair ``j // 2``, and a 64-bit key of
  the start point (a hash of its coordinates' bits: the same start gets the same draws). One
  Philox block gives a Box–Muller pair: coordinate ``2k`` takes its cosine, ``2k + 1`` its sine.

:func:`philox` and :func:`normal_pair` are written with integer and elementwise arithmetic only, so the
readable path applies them to NumPy arrays of counters and the compiled kernels inline them for
single numbers (one definition, as for the update rules).
"""

from __future__ import annotations

import zlib

import numpy as np

from functions.elementwise import cos, log, sin, sqrt

M0 = np.uint64(0xD2511F53)
M1 = np.uint64(0xCD9E8D57)
W0 = np.uint64(0x9E3779B9)
W1 = np.uint64(0xBB67AE85)
MASK = np.uint64(0xFFFFFFFF)
S5, S6, S32 = np.uint64(5), np.uint64(6), np.uint64(32)

#: Stream of the gradient noise (``optviz.run(noise=...)``): shared by every optimizer.
GRADIENT_STREAM = 0x6E6F6973
#: Coordinate pairs per draw index in the counter word (draw index × 2^24 + coordinate // 2).
DRAW_STRIDE = 1 << 24


def philox(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10: four 32-bit counter words and two key words (as uint64) to four words."""
    for _ in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        c0, c1, c2, c3 = (p1 >> S32) ^ c1 ^ k0, p1 & MASK, (p0 >> S32) ^ c3 ^ k1, p0 & MASK
        k0 = (k0 + W0) & MASK
        k1 = (k1 + W1) & MASK
    return c0, c1, c2, c3


def normal_pair(c0, c1, c2, c3, k0, k1):
    """Two independent standard normals from one Philox block (53-bit uniforms, Box–Muller)."""
    x0, x1, x2, x3 = philox(c0, c1, c2, c3, k0, k1)
    u1 = ((x0 >> S5) * 67108864.0 + (x1 >> S6) + 1.0) / 9007199254740992.0  # (0, 1]
    u2 = ((x2 >> S5) * 67108864.0 + (x3 >> S6)) / 9007199254740992.0  # [0, 1)
    r = sqrt(-2.0 * log(u1))
    a = 6.283185307179586 * u2
    return r * cos(a), r * sin(a)


def stream_of(name: str) -> int:
    """The stream of an optimizer's own draws: a 32-bit hash of its name."""
    return zlib.crc32(name.encode())


def seed_words(seed: int | np.ndarray, stream: int) -> tuple[np.ndarray, np.ndarray]:
    """Philox key words (uint64, < 2^32) from a seed (one, or one per point) and a stream."""
    s = np.asarray(seed, dtype=np.uint64)
    k0 = (s & MASK) ^ np.uint64(stream & 0xFFFFFFFF)
    k1 = (s >> S32) & MASK
    return k0, k1


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def start_keys(starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two 32-bit counter words per start, from a hash of its float64 coordinates' bits."""
    bits = np.ascontiguousarray(starts, dtype=np.float64).view(np.uint64)
    with np.errstate(over="ignore"):
        h = np.full(bits.shape[0], 0x243F6A8885A308D3, dtype=np.uint64)
        for j in range(bits.shape[1]):
            h = _mix64(h ^ bits[:, j] + np.uint64(0x9E3779B97F4A7C15) * np.uint64(j + 1))
    return h & MASK, h >> S32


def draws(t: int, draw: int, dim: int, keys: tuple[np.ndarray, np.ndarray],
          words: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Standard normals of shape ``(n, dim)`` for step ``t`` and draw index ``draw``.

    ``keys`` are the starts' counter words (:func:`start_keys`), ``words`` the Philox key words
    (:func:`seed_words`; scalars, or one per point).
    """
    lo, hi = keys
    n = lo.shape[0]
    pairs = (dim + 1) // 2
    c0 = np.full((n, pairs), t, dtype=np.uint64)
    c1 = np.broadcast_to(np.arange(pairs, dtype=np.uint64) + np.uint64(draw * DRAW_STRIDE), (n, pairs))
    k0, k1 = (np.broadcast_to(np.reshape(k, (-1, 1)), (n, pairs)) for k in words)
    c2, c3 = (np.broadcast_to(w[:, None], (n, pairs)) for w in (lo, hi))
    with np.errstate(over="ignore"):
        even, odd = normal_pair(c0, c1, c2, c3, k0, k1)
    out = np.empty((n, 2 * pairs))
    out[:, 0::2], out[:, 1::2] = even, odd
    return out[:, :dim]
