"""Where a run computes: array backends (NumPy by default, CuPy on a GPU, or any array-API
namespace) and the CPU cores this process may use.

The engine asks for a namespace here once; every rule then takes it from its arrays.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType
from typing import Any

import array_api_compat
import numpy as np

BACKENDS = ("numpy", "cupy", "auto")


def cores() -> int:
    """CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class BackendError(RuntimeError):
    """A backend was asked for that this machine cannot provide (e.g. CuPy without a GPU)."""


@functools.lru_cache(maxsize=1)
def gpu_status() -> tuple[bool, str]:
    """Whether CuPy can run here, and a sentence saying why (not)."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install
        return False, f"CuPy is not installed ({type(exc).__name__}); pip install cupy-cuda12x"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            return False, "CuPy is installed but no GPU is visible"
        cupy.zeros(1).sum().item()  # touches the driver: fails early if CUDA is unusable
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception as exc:
        return False, f"CuPy is installed but no usable GPU was found ({exc})"
    return True, f"GPU: {name}"


def resolve(backend: str | ModuleType) -> tuple[Any, str]:
    """The array namespace for ``backend`` and its display name.

    ``"numpy"`` (default) and ``"cupy"`` name a library; ``"auto"`` takes CuPy when a GPU is
    usable and NumPy otherwise; a module that implements the array API standard (for example
    ``array_api_strict``) is used as it is.
    """
    if isinstance(backend, ModuleType):
        if not hasattr(backend, "asarray"):
            raise ValueError(f"backend module {backend.__name__} is not an array namespace")
        return backend, backend.__name__
    if not isinstance(backend, str) or backend.lower() not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    backend = backend.lower()
    if backend == "numpy":
        return _numpy_namespace(), "numpy"
    ok, why = gpu_status()
    if backend == "cupy" and not ok:
        raise BackendError(f"backend='cupy' is not usable here: {why}. Use 'numpy' or 'auto'.")
    if ok:
        import cupy

        return array_api_compat.array_namespace(cupy.zeros(1)), "cupy"
    return _numpy_namespace(), "numpy"


def _numpy_namespace():
    return array_api_compat.array_namespace(np.zeros(1))


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array from any supported backend."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get"):  # CuPy
        return x.get()
    try:
        return np.from_dlpack(x)
    except (TypeError, AttributeError, BufferError, RuntimeError):
        return np.asarray(x)
