"""The compiled fast path (placeholder while the kernels are written: always the readable path)."""

from __future__ import annotations

from typing import Any

INLINE_WORK = 2_000_000
MIN_POINTS_PER_THREAD = 64


def choose(job: Any, backend: str, fused: bool | None) -> str:
    if fused is True:
        raise ValueError("the compiled fast path is not available in this build")
    return "reference"


def step(job: Any, watch: Any) -> Any:
    raise NotImplementedError
