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

Today's optimizers (``tests/fixtures/optax_modern.npz``, :data:`MODERN_CASES`) are recorded
**teacher-forced**: optax runs on its own iterates and the script saves, per step, the gradient it
was given (at optax's params, which for schedule-free rules are the interpolation y), optax's
params and the point optviz shows (for schedule-free rules x =
``schedule_free_eval_params``). The tests feed optviz's rule the same gradients and compare.
Mappings (from optax's ``jnp`` code; each rule's docstring says the same):

* AdamW(lr, beta1, beta2, eps, weight_decay) -> adamw(learning_rate=lr, b1, b2, eps, eps_root=0,
  weight_decay)
* Lion(lr, beta1, beta2, weight_decay)       -> lion(learning_rate=lr, b1, b2, weight_decay)
* RAdam(lr, beta1, beta2, eps, threshold)    -> radam(learning_rate=lr, b1, b2, eps, eps_root=0,
  threshold)
* AdaBelief(lr, beta1, beta2, eps)           -> adabelief(learning_rate=lr, b1, b2, eps=eps,
  eps_root=eps)
* Yogi(lr, beta1, beta2, eps, v0)            -> chain(scale_by_yogi(b1, b2, eps, eps_root=0,
  initial_accumulator_value=v0), scale_by_learning_rate(lr)) (= yogi(lr, b1, b2, eps) at v0 = 1e-6)
* Adan(lr, beta1..3, eps, weight_decay)      -> adan(learning_rate=lr, b1, b2, b3, eps, eps_root=0,
  weight_decay)
* ScheduleFreeSGD(lr, momentum, weight_decay, warmup=0, weight_lr_power)
    -> contrib.schedule_free_sgd(learning_rate=lr, warmup_steps=None, b1=momentum, weight_decay,
       weight_lr_power)
* ScheduleFreeAdamW(lr, beta1, beta2, eps, weight_decay, warmup=0, weight_lr_power)
    -> contrib.schedule_free_adamw(learning_rate=lr, warmup_steps=None, b1=beta1, b2=beta2, eps,
       weight_decay, weight_lr_power)

* Prodigy(lr, beta1, beta2, beta3, eps, d0, d_coef, weight_decay)
    -> contrib.prodigy(learning_rate=lr, betas=(beta1, beta2), beta3, eps, estim_lr0=d0,
       estim_lr_coef=d_coef, weight_decay), each start alone (under jax.vmap): its dot product and
       1-norm run over all of optax's params, and in optviz each start is its own model

Rprop has no optax twin here: ``optax.rprop`` (0.2.8) returns the update it stored the step
before (one step late); torch.optim.Rprop and a transcription are its references.

Run from the repository root (needs jax and optax):  python scripts/make_optax_fixtures.py
(``--part article`` or ``--part modern`` writes only one of the two files).
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


MODERN_OUT = ROOT / "tests" / "fixtures" / "optax_modern.npz"
MODERN_DEFAULTS = {
    "AdamW": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
    "Lion": {"lr": 1e-4, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    "RAdam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "threshold": 5.0},
    "AdaBelief": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-16},
    "Yogi": {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-3, "v0": 1e-6},
    "Adan": {"lr": 1e-3, "beta1": 0.98, "beta2": 0.92, "beta3": 0.99, "eps": 1e-8, "weight_decay": 0.0},
    "ScheduleFreeSGD": {"lr": 1e-2, "momentum": 0.9, "weight_decay": 0.0, "warmup": 0.0,
                        "weight_lr_power": 2.0},
    "ScheduleFreeAdamW": {"lr": 2.5e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0,
                          "warmup": 0.0, "weight_lr_power": 2.0},
    "Prodigy": {"lr": 1.0, "beta1": 0.9, "beta2": 0.999, "beta3": 0.9995, "eps": 1e-8, "d0": 1e-6,
                "d_coef": 1.0, "weight_decay": 0.0},
}
# (function, optimizer, optviz hyperparameters, steps): the registry's defaults, then settings that
# move the points far and use every hyperparameter.
MODERN_CASES: list[tuple] = [
    ("rosenbrock", "AdamW", {}, 80),
    ("rosenbrock", "AdamW", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}, 80),
    ("quartic", "AdamW", {"lr": 0.2, "weight_decay": 0.05}, 80),
    ("rosenbrock", "Lion", {}, 80),
    ("rosenbrock", "Lion", {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1}, 80),
    ("quartic", "Lion", {"lr": 0.05, "weight_decay": 0.01}, 80),
    ("rosenbrock", "RAdam", {}, 80),
    ("rosenbrock", "RAdam", {"lr": 2e-3, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "threshold": 6.0}, 80),
    ("quartic", "RAdam", {"lr": 0.02, "beta2": 0.9}, 80),
    ("rosenbrock", "AdaBelief", {}, 80),
    ("rosenbrock", "AdaBelief", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8}, 80),
    ("quartic", "AdaBelief", {"lr": 0.1}, 80),
    ("rosenbrock", "Yogi", {}, 80),
    ("rosenbrock", "Yogi", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4, "v0": 1e-3}, 80),
    ("quartic", "Yogi", {"lr": 0.2}, 80),
    ("rosenbrock", "Adan", {}, 80),
    ("rosenbrock", "Adan", {"lr": 0.02, "beta1": 0.9, "beta2": 0.8, "beta3": 0.95, "eps": 1e-6,
                            "weight_decay": 0.05}, 80),
    ("quartic", "Adan", {"lr": 0.1}, 80),
    ("rosenbrock", "ScheduleFreeSGD", {"lr": 1e-3}, 80),
    ("rosenbrock", "ScheduleFreeSGD", {"lr": 5e-4, "momentum": 0.8, "weight_decay": 0.1,
                                       "weight_lr_power": 1.0}, 80),
    ("quartic", "ScheduleFreeSGD", {}, 80),
    ("rosenbrock", "ScheduleFreeAdamW", {}, 80),
    ("rosenbrock", "ScheduleFreeAdamW", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                                         "weight_decay": 0.1, "weight_lr_power": 0.0}, 80),
    ("quartic", "ScheduleFreeAdamW", {"lr": 0.1}, 80),
    ("rosenbrock", "Prodigy", {}, 80),
    ("rosenbrock", "Prodigy", {"lr": 0.5, "beta1": 0.8, "beta2": 0.99, "beta3": 0.9, "eps": 1e-6, "d0": 1e-3,
                               "d_coef": 2.0, "weight_decay": 0.01}, 80),
    ("quartic", "Prodigy", {"d0": 1e-4}, 80),
]


def modern_transform(name: str, hp: dict) -> tuple[optax.GradientTransformation, dict, str]:
    """optax's twin of optviz's ``name`` at ``hp``: the transform, its keywords and its name."""
    h = {**MODERN_DEFAULTS[name], **hp}
    if name == "AdamW":
        kw = {"learning_rate": h["lr"], "b1": h["beta1"], "b2": h["beta2"], "eps": h["eps"], "eps_root": 0.0,
              "weight_decay": h["weight_decay"]}
        return optax.adamw(**kw), kw, "optax.adamw"
    if name == "Lion":
        kw = {"learning_rate": h["lr"], "b1": h["beta1"], "b2": h["beta2"], "weight_decay": h["weight_decay"]}
        return optax.lion(**kw), kw, "optax.lion"
    if name == "RAdam":
        kw = {"learning_rate": h["lr"], "b1": h["beta1"], "b2": h["beta2"], "eps": h["eps"], "eps_root": 0.0,
              "threshold": h["threshold"]}
        return optax.radam(**kw), kw, "optax.radam"
    if name == "AdaBelief":
        kw = {"learning_rate": h["lr"], "b1": h["beta1"], "b2": h["beta2"], "eps": h["eps"],
              "eps_root": h["eps"]}
        return optax.adabelief(**kw), kw, "optax.adabelief"
    if name == "Yogi":
        kw = {"b1": h["beta1"], "b2": h["beta2"], "eps": h["eps"], "eps_root": 0.0,
              "initial_accumulator_value": h["v0"]}
        tx = optax.chain(optax.scale_by_yogi(**kw), optax.scale_by_learning_rate(h["lr"]))
        return tx, {**kw, "learning_rate": h["lr"]}, "optax.chain(scale_by_yogi, scale_by_learning_rate)"
    if name == "Adan":
        kw = {"learning_rate": h["lr"], "b1": h["beta1"], "b2": h["beta2"], "b3": h["beta3"], "eps": h["eps"],
              "eps_root": 0.0, "weight_decay": h["weight_decay"]}
        return optax.adan(**kw), kw, "optax.adan"
    if name == "Prodigy":
        kw = {"learning_rate": h["lr"], "betas": (h["beta1"], h["beta2"]), "beta3": h["beta3"],
              "eps": h["eps"], "estim_lr0": h["d0"], "estim_lr_coef": h["d_coef"],
              "weight_decay": h["weight_decay"]}
        return optax.contrib.prodigy(**kw), kw, "optax.contrib.prodigy (each start alone)"
    assert h["warmup"] == 0.0, "optax's warm-up steps z one step earlier than its weights: compare without"
    if name == "ScheduleFreeSGD":
        kw = {"learning_rate": h["lr"], "warmup_steps": None, "b1": h["momentum"],
              "weight_decay": h["weight_decay"], "weight_lr_power": h["weight_lr_power"]}
        return optax.contrib.schedule_free_sgd(**kw), kw, "optax.contrib.schedule_free_sgd"
    if name == "ScheduleFreeAdamW":
        kw = {"learning_rate": h["lr"], "warmup_steps": None, "b1": h["beta1"], "b2": h["beta2"],
              "eps": h["eps"], "weight_decay": h["weight_decay"], "weight_lr_power": h["weight_lr_power"]}
        return optax.contrib.schedule_free_adamw(**kw), kw, "optax.contrib.schedule_free_adamw"
    raise KeyError(name)


def run_modern(fname: str, name: str, hp: dict, starts, steps: int
               ) -> tuple[dict[str, np.ndarray], dict, str]:
    """optax from ``starts`` for ``steps`` steps: per step the gradient it was fed (at its params),
    its params, and the point optviz shows (its params, or x for a schedule-free rule)."""
    fn = functions.get(fname)
    tx, kw, label = modern_transform(name, hp)
    update = jax.jit(tx.update)
    alone = name == "Prodigy"  # its sums run over all params: each start is its own model, under vmap
    if alone:
        update = jax.jit(jax.vmap(tx.update))
    params = jnp.asarray(np.asarray(starts, dtype=np.float64))
    state = jax.vmap(tx.init)(params) if alone else tx.init(params)
    free = name.startswith("ScheduleFree")

    def shown(params, state):
        return np.asarray(optax.contrib.schedule_free_eval_params(state, params) if free else params)

    grads, ps, xs = [], [np.asarray(params)], [shown(params, state)]
    for _ in range(steps):
        g = np.asarray(fn.grad(np.asarray(params)), dtype=np.float64)  # the analytic gradient
        updates, state = update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        grads.append(g)
        ps.append(np.asarray(params))
        xs.append(shown(params, state))
    out = {"grads": np.stack(grads), "shown": np.stack(xs)}
    if free:  # optax's params are the gradient points y; elsewhere they are the points shown
        out["params"] = np.stack(ps)
    assert all(np.all(np.isfinite(v)) for v in out.values()), f"{fname}/{name}/{hp}: optax diverged"
    assert np.abs(out["shown"][-1] - out["shown"][0]).max() > 1e-3, f"{fname}/{name}/{hp}: did not move"
    return out, kw, label


def write_modern() -> None:
    arrays: dict[str, np.ndarray] = {}
    meta = {"optax_version": optax.__version__, "jax_version": jax.__version__, "dtype": "float64",
            "teacher_forced": True, "cases": []}
    for k, (fname, name, hp, steps) in enumerate(MODERN_CASES):
        starts = ROSEN_STARTS if fname == "rosenbrock" else QUARTIC_STARTS
        key = f"case{k:02d}"
        out, kw, label = run_modern(fname, name, hp, starts, steps)
        for part, arr in out.items():
            arrays[f"{key}_{part}"] = arr
        meta["cases"].append({"key": key, "function": fname, "optimizer": name, "hyperparams": hp,
                              "starts": starts, "steps": steps, "optax": label, "optax_kwargs": kw})
    arrays["meta_json"] = np.array(json.dumps(meta, indent=1))
    np.savez_compressed(MODERN_OUT, **arrays)
    MODERN_OUT.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {MODERN_OUT} ({MODERN_OUT.stat().st_size / 1024:.1f} KiB, {len(MODERN_CASES)} cases)")


def main() -> None:
    part = sys.argv[sys.argv.index("--part") + 1] if "--part" in sys.argv else "all"
    if part in ("all", "modern"):
        write_modern()
    if part in ("all", "article"):
        write_article()


def write_article() -> None:
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
