"""Test-suite settings.

``OPTVIZ_FAST=size``: the engine's automatic choice of path depends only on a run's size, not
on which kernels this process (or an earlier one, on disk) happens to have compiled, and no
kernel is compiled in the background: every test sees the same path on every machine. The
fast path's own tests ask for it explicitly (``fused=True``). Subprocesses inherit the setting.
"""

import os

os.environ.setdefault("OPTVIZ_FAST", "size")
