"""Regenerate ``tests/fixtures/optax_reference.npz``: optax's own optimizers as a reference.

Above all it pins **Nadam**: optviz follows Dozat's code and report (v̂ = v_t/(1−ν^t), no ν in
front, the article's and the paper's Algorithm 2 typo fixed), which is what ``optax.nadam`` does.
Each case runs optax in float64 (x64) on one ``(n_points, dim)`` array with the test function's
ANALYTIC gradient (``functions.get(name).grad``; no autodiff), one update per step; the iterates
are saved with the settings, and the tests (which need neither jax nor optax) compare
``optviz.run`` with them.

Mappings (from optax's source, ``optax/_src/alias.py`` and ``transform.py``):

* Nadam(alpha, mu, nu, eps)  -> nadam(learning_rate=alpha, b1=mu, b2=nu, eps=0, eps_root=eps):
  optax's ``scale_by_adam(nesterov=True)`` has m̂ = b1·m/(1−b1^{t+1}) + (1−b1)·g/(1−b1^t),
  v̂ = v/(1−b2^t), update = m̂/(sqrt(v̂ + eps_root) + eps): optviz's ε (inside the root) is
  optax's eps_root, with its eps = 0.
* Adam(alpha, betas, eps=0) -> adam(learning_rate=alpha, b1, b2, eps=0, eps_root=0): optax
  corrects m and v separately, m̂/√(v̂ + ε_root) = (m/(1−β1^t))/√(v/(1−β2^t) + ε_root), while
  optviz folds both into α_t = α√(1−β2^t)/(1−β1^t) over √(v + ε): the same only for ε = 0.
* AdaMax(alpha, betas, eps)  -> adamax(learning_rate=alpha, b1, b2, eps): optax divides by
  max(β2 u, |g|) + eps where optviz (and PyTorch) use max(β2 u, |g| + eps): compared with eps = 0.

Run from the repository root (needs jax and optax):  python scripts/make_optax_fixtures.py
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import functions  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "optax_reference.npz"
ROSEN_STARTS = [[-1.5, 2.0], [0.5, -0.5], [1.2, 1.0], [-0.3, 0.8]]
QUARTIC_STARTS = [[-3.0], [-0.7], [0.4], [2.9]]
DEFAULTS = {
    "Nadam": {"alpha": 2e-3, "mu": 0.975, "nu": 0.999, "eps": 1e-8},
    "Adam": {"alpha": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "AdaMax": {"alpha": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}
# (function, optimizer, optviz hyperparameters, steps): stable, non-chaotic settings.
CASES: list[tuple] = [
    ("rosenbrock", "Nadam", {}, 80),
    ("rosenbrock", "Nadam", {"alpha": 2e-2, "mu": 0.9, "nu": 0.99}, 80),
    ("rosenbrock", "Nadam", {"alpha": 1e-2, "mu": 0.95, "nu": 0.999, "eps": 1e-4}, 80),
    ("quartic", "Nadam", {}, 100),
    ("quartic", "Nadam", {"alpha": 5e-2, "mu": 0.8, "nu": 0.99, "eps": 1e-6}, 60),
    ("rosenbrock", "Adam", {"alpha": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 0.0}, 80),
    ("quartic", "AdaMax", {"alpha": 0.05, "eps": 0.0}, 80),
]


def optax_transform(name: str, hp: dict) -> tuple[optax.GradientTransformation, dict]:
    h = {**DEFAULTS[name], **hp}
    if name == "Nadam":
        kw = {"learning_rate": h["alpha"], "b1": h["mu"], "b2": h["nu"], "eps": 0.0, "eps_root": h["eps"]}
        return optax.nadam(**kw), kw
    if name == "Adam":
        assert h["eps"] == 0.0, "optax corrects v before adding eps_root: compare with eps = 0 only"
        kw = {"learning_rate": h["alpha"], "b1": h["beta1"], "b2": h["beta2"], "eps": 0.0, "eps_root": 0.0}
        return optax.adam(**kw), kw
    if name == "AdaMax":
        assert h["eps"] == 0.0, "optax adds eps after the max: compare with eps = 0 only"
        kw = {"learning_rate": h["alpha"], "b1": h["beta1"], "b2": h["beta2"], "eps": 0.0}
        return optax.adamax(**kw), kw
    raise KeyError(name)


def run_optax(fname: str, name: str, hp: dict, starts, steps: int) -> tuple[np.ndarray, dict]:
    fn = functions.get(fname)
    tx, kw = optax_transform(name, hp)
    x = jnp.asarray(np.asarray(starts, dtype=np.float64))
    state = tx.init(x)
    traj = [np.asarray(x)]
    for _ in range(steps):
        g = jnp.asarray(fn.grad(np.asarray(x)))  # the analytic gradient
        updates, state = tx.update(g, state, x)
        x = optax.apply_updates(x, updates)
        traj.append(np.asarray(x))
    out = np.stack(traj)
    assert np.all(np.isfinite(out)), f"{fname}/{name}/{hp}: optax diverged; choose smaller rates"
    return out, kw


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    meta = {"optax_version": optax.__version__, "jax_version": jax.__version__, "dtype": "float64",
            "cases": []}
    for k, (fname, name, hp, steps) in enumerate(CASES):
        starts = ROSEN_STARTS if fname == "rosenbrock" else QUARTIC_STARTS
        key = f"case{k:02d}"
        arrays[key], kw = run_optax(fname, name, hp, starts, steps)
        meta["cases"].append({"key": key, "function": fname, "optimizer": name, "hyperparams": hp,
                              "starts": starts, "steps": steps, "optax": f"optax.{name.lower()}",
                              "optax_kwargs": kw})
    arrays["meta_json"] = np.array(json.dumps(meta, indent=1))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    OUT.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.1f} KiB, {len(CASES)} cases, optax {optax.__version__})")


if __name__ == "__main__":
    main()
