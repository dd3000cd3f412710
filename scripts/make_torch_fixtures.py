"""Regenerate ``tests/fixtures/torch_reference.npz``: PyTorch's own optimizers as a reference.

For each case, ``torch.optim`` runs in float64 on ONE ``(n_points, dim)`` tensor (or, for a
"sweep" case, one row tensor per point, each in its own parameter group with its own rate),
with ``p.grad`` set from the test function's ANALYTIC gradient (``functions.get(name).grad``;
no autograd). The iterates are saved with the settings; the tests (which do not need torch)
compare ``optviz.run`` with them.

Mappings from ``shared/optimizer-spec.md``:

* SGD(eta)            -> SGD(lr=eta)
* MSGD(eta, mu)       -> SGD(lr=(1-mu)*eta, momentum=mu)
* NAG(eta, mu)        -> SGD(lr=(1-mu)*eta, momentum=mu, nesterov=True); torch's iterates are
                         optviz's look-ahead sequence y_t = w_t + mu*(w_t - w_{t-1}), y_0 = w_0
* AdaGrad(eta, eps)   -> Adagrad(lr=eta, eps=eps)
* RMSprop(eta, rho)   -> RMSprop(lr=eta, alpha=rho, eps=0), compared with optviz's eps=0
                         (torch adds eps outside the root, optviz inside)
* AdaDelta(rho, eps)  -> Adadelta(lr=1, rho=rho, eps=eps)  (optviz's extra factor lr -> torch lr)
* Adam(alpha, betas)  -> Adam(lr=alpha, betas, eps=0), compared with optviz's eps=0
* AdaMax(alpha, ...)  -> Adamax(lr=alpha, betas, eps=eps)

Today's optimizers that torch.optim has (``tests/fixtures/torch_modern.npz``, :data:`MODERN_CASES`)
are recorded **teacher-forced**: per step the gradient torch was given (the analytic one at its
params) and its params, so that the tests feed optviz's rule the same gradients. Mappings (from
torch's ``_single_tensor_*`` code; each rule's docstring says the same):

* AdamW(lr, beta1, beta2, eps, weight_decay) -> AdamW(lr, betas=(beta1, beta2), eps, weight_decay)
* RAdam(lr, beta1, beta2, eps=0)             -> RAdam(lr, betas, eps=0): torch adds eps to sqrt(v)
  before the bias correction, optax and optviz after it (the same at eps = 0); torch's test is
  rho_t > 5, optviz's rho_t >= threshold (5)
* Rprop(lr, eta_minus, eta_plus, step_min, step_max) -> Rprop(lr, etas=(eta_minus, eta_plus),
  step_sizes=(step_min, step_max))

Run from the repository root:  python scripts/make_torch_fixtures.py (``--part article`` or
``--part modern`` writes only one of the two files).
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import functions  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "torch_reference.npz"

ROSEN_STARTS = [[-1.5, 2.0], [0.5, -0.5], [1.2, 1.0], [-0.3, 0.8]]
QUARTIC_STARTS = [[-3.0], [-0.7], [0.4], [2.9]]
ROSEN_STEPS = 60
QUARTIC_STEPS = 80

# (function, optimizer, optviz hyperparameters, sweep?): a sweep gives one value per start.
# Settings are chosen so that no point diverges and none bounces chaotically (where rounding
# differences of 1e-16 would grow past the tests' rtol 1e-10).
CASES: list[tuple] = [
    # ---- Rosenbrock, 4 starts, 60 steps: defaults where stable, non-defaults, sweeps
    ("rosenbrock", "SGD", {"eta": 5e-4}, False),
    ("rosenbrock", "SGD", {"eta": [1e-4, 2e-4, 5e-4, 8e-4]}, True),
    ("rosenbrock", "MSGD", {"eta": 1e-3, "mu": 0.8}, False),
    ("rosenbrock", "MSGD", {"eta": [5e-4, 1e-3, 1.5e-3, 2e-3], "mu": 0.9}, True),
    ("rosenbrock", "NAG", {"eta": 1e-3, "mu": 0.9}, False),
    ("rosenbrock", "NAG", {"eta": 2e-3, "mu": 0.95}, False),
    ("rosenbrock", "AdaGrad", {}, False),
    ("rosenbrock", "AdaGrad", {"eta": 0.1, "eps": 1e-6}, False),
    ("rosenbrock", "RMSprop", {"eps": 0.0}, False),
    ("rosenbrock", "RMSprop", {"eta": 3e-3, "rho": 0.9, "eps": 0.0}, False),
    ("rosenbrock", "AdaDelta", {}, False),
    ("rosenbrock", "AdaDelta", {"rho": 0.9, "eps": 1e-4}, False),
    ("rosenbrock", "Adam", {"eps": 0.0}, False),
    ("rosenbrock", "Adam", {"alpha": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 0.0}, False),
    ("rosenbrock", "Adam", {"alpha": [0.01, 0.05, 0.1, 0.3], "eps": 0.0}, True),
    ("rosenbrock", "AdaMax", {}, False),
    ("rosenbrock", "AdaMax", {"alpha": 0.05, "beta1": 0.85, "beta2": 0.99, "eps": 1e-6}, False),
    # ---- the 1-D quartic, 4 starts, 80 steps
    ("quartic", "SGD", {}, False),
    ("quartic", "SGD", {"eta": 2e-2}, False),
    ("quartic", "MSGD", {}, False),
    ("quartic", "MSGD", {"eta": 3e-2, "mu": 0.7}, False),
    ("quartic", "NAG", {"mu": 0.95}, False),
    ("quartic", "NAG", {"eta": 2e-2, "mu": 0.8}, False),
    ("quartic", "AdaGrad", {"eta": 0.4}, False),
    ("quartic", "RMSprop", {"eta": 4e-2, "eps": 0.0}, False),
    ("quartic", "RMSprop", {"eta": 1e-2, "rho": 0.95, "eps": 0.0}, False),
    # AdaDelta reaches a minimum, then its rate sqrt(u+eps)/sqrt(v+eps) drifts to 1 as both
    # averages decay; with f''(-1.5) = 16 > 2 the point starts bouncing and rounding grows ~8x
    # a step: compared over the first 30-40 steps only
    ("quartic", "AdaDelta", {"eps": 1e-2}, False, 40),
    ("quartic", "AdaDelta", {"rho": 0.8, "eps": 1e-3}, False, 30),
    ("quartic", "Adam", {"alpha": 0.4, "eps": 0.0}, False),
    ("quartic", "Adam", {"alpha": 0.1, "beta1": 0.5, "beta2": 0.9, "eps": 0.0}, False),
    ("quartic", "AdaMax", {}, False),
    ("quartic", "AdaMax", {"alpha": 0.2, "beta1": 0.7, "beta2": 0.95}, False),
]

DEFAULTS = {
    "SGD": {"eta": 1e-2},
    "MSGD": {"eta": 1e-2, "mu": 0.9},
    "NAG": {"eta": 1e-2, "mu": 0.9},
    "AdaGrad": {"eta": 1e-3, "eps": 1e-8},
    "RMSprop": {"eta": 1e-2, "rho": 0.99, "eps": 1e-8},
    "AdaDelta": {"rho": 0.95, "eps": 1e-6},
    "Adam": {"alpha": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "AdaMax": {"alpha": 2e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


def torch_settings(name: str, hp: dict) -> tuple[type, dict]:
    """The torch.optim class and its keyword arguments for optviz's ``name`` with ``hp``."""
    h = {**DEFAULTS[name], **hp}
    if name == "SGD":
        return torch.optim.SGD, {"lr": h["eta"]}
    if name in ("MSGD", "NAG"):
        return torch.optim.SGD, {
            "lr": (1 - h["mu"]) * h["eta"], "momentum": h["mu"], "nesterov": name == "NAG",
        }  # fmt: skip
    if name == "AdaGrad":
        return torch.optim.Adagrad, {"lr": h["eta"], "eps": h["eps"]}
    if name == "RMSprop":
        assert h["eps"] == 0.0, "torch puts eps outside the root: compare with eps = 0 only"
        return torch.optim.RMSprop, {"lr": h["eta"], "alpha": h["rho"], "eps": 0.0}
    if name == "AdaDelta":
        return torch.optim.Adadelta, {"lr": 1.0, "rho": h["rho"], "eps": h["eps"]}
    if name == "Adam":
        assert h["eps"] == 0.0, "torch puts eps outside the root: compare with eps = 0 only"
        return torch.optim.Adam, {"lr": h["alpha"], "betas": (h["beta1"], h["beta2"]), "eps": 0.0}
    if name == "AdaMax":
        return torch.optim.Adamax, {
            "lr": h["alpha"], "betas": (h["beta1"], h["beta2"]), "eps": h["eps"],
        }  # fmt: skip
    raise KeyError(name)


def run_torch(fname: str, name: str, hp: dict, sweep: bool, starts, steps: int) -> np.ndarray:
    fn = functions.get(fname)
    n = len(starts)
    if sweep:
        params = [torch.tensor([row], dtype=torch.float64, requires_grad=True) for row in starts]
        groups = []
        for i, p in enumerate(params):
            hp_i = {k: (v[i] if isinstance(v, list) else v) for k, v in hp.items()}
            cls, kw = torch_settings(name, hp_i)
            groups.append({"params": [p], **kw})
        opt = cls(groups, foreach=False)
    else:
        params = [torch.tensor(starts, dtype=torch.float64, requires_grad=True)]
        cls, kw = torch_settings(name, hp)
        opt = cls(params, foreach=False, **kw)

    def current() -> np.ndarray:
        return np.concatenate([p.detach().numpy().copy() for p in params], axis=0)

    traj = [current()]
    for _ in range(steps):
        x = current()
        g = np.asarray(fn.grad(x), dtype=np.float64)  # the analytic gradient
        row = 0
        for p in params:
            k = p.shape[0]
            p.grad = torch.from_numpy(g[row : row + k].copy())
            row += k
        opt.step()
        traj.append(current())
    out = np.stack(traj)
    assert out.shape == (steps + 1, n, fn.dim)
    assert np.all(np.isfinite(out)), f"{fname}/{name}/{hp}: torch diverged; choose smaller rates"
    return out


MODERN_OUT = ROOT / "tests" / "fixtures" / "torch_modern.npz"
MODERN_DEFAULTS = {
    "AdamW": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2},
    "RAdam": {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "threshold": 5.0},
    "Rprop": {"lr": 1e-2, "eta_minus": 0.5, "eta_plus": 1.2, "step_min": 1e-6, "step_max": 50.0},
}
# (function, optimizer, optviz hyperparameters, steps)
MODERN_CASES: list[tuple] = [
    ("rosenbrock", "AdamW", {}, 80),
    ("rosenbrock", "AdamW", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1}, 80),
    ("quartic", "AdamW", {"lr": 0.2, "weight_decay": 0.05}, 80),
    ("rosenbrock", "RAdam", {"eps": 0.0}, 80),
    ("rosenbrock", "RAdam", {"lr": 2e-3, "beta1": 0.8, "beta2": 0.99, "eps": 0.0}, 80),
    ("quartic", "RAdam", {"lr": 0.02, "beta2": 0.9, "eps": 0.0}, 80),
    ("rosenbrock", "Rprop", {}, 80),
    ("rosenbrock", "Rprop", {"lr": 0.05, "eta_minus": 0.3, "eta_plus": 1.5, "step_min": 1e-3,
                             "step_max": 0.2}, 80),
    ("quartic", "Rprop", {"lr": 0.1}, 80),
]


def modern_settings(name: str, hp: dict) -> tuple[type, dict]:
    """The torch.optim class and its keyword arguments for optviz's ``name`` with ``hp``."""
    h = {**MODERN_DEFAULTS[name], **hp}
    if name == "AdamW":
        return torch.optim.AdamW, {"lr": h["lr"], "betas": (h["beta1"], h["beta2"]), "eps": h["eps"],
                                   "weight_decay": h["weight_decay"]}
    if name == "RAdam":
        assert h["eps"] == 0.0 and h["threshold"] == 5.0, "torch adds eps before the bias correction"
        return torch.optim.RAdam, {"lr": h["lr"], "betas": (h["beta1"], h["beta2"]), "eps": 0.0}
    if name == "Rprop":
        return torch.optim.Rprop, {"lr": h["lr"], "etas": (h["eta_minus"], h["eta_plus"]),
                                   "step_sizes": (h["step_min"], h["step_max"])}
    raise KeyError(name)


def write_modern() -> None:
    torch.set_default_dtype(torch.float64)
    arrays: dict[str, np.ndarray] = {}
    meta = {"torch_version": torch.__version__, "dtype": "float64", "teacher_forced": True, "cases": []}
    for k, (fname, name, hp, steps) in enumerate(MODERN_CASES):
        fn = functions.get(fname)
        starts = ROSEN_STARTS if fname == "rosenbrock" else QUARTIC_STARTS
        cls, kw = modern_settings(name, hp)
        p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
        opt = cls([p], foreach=False, **kw)
        grads, ps = [], [p.detach().numpy().copy()]
        for _ in range(steps):
            g = np.asarray(fn.grad(p.detach().numpy().copy()), dtype=np.float64)  # the analytic gradient
            p.grad = torch.from_numpy(g.copy())
            opt.step()
            grads.append(g)
            ps.append(p.detach().numpy().copy())
        key = f"case{k:02d}"
        arrays[f"{key}_grads"], arrays[f"{key}_params"] = np.stack(grads), np.stack(ps)
        assert np.all(np.isfinite(arrays[f"{key}_params"])), f"{fname}/{name}/{hp}: torch diverged"
        assert np.abs(ps[-1] - ps[0]).max() > 1e-3, f"{fname}/{name}/{hp}: did not move"
        meta["cases"].append({"key": key, "function": fname, "optimizer": name, "hyperparams": hp,
                              "starts": starts, "steps": steps, "torch_class": cls.__name__,
                              "torch_kwargs": json.loads(json.dumps(kw))})
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
    torch.set_default_dtype(torch.float64)
    arrays: dict[str, np.ndarray] = {}
    meta = {"torch_version": torch.__version__, "dtype": "float64", "cases": []}
    for k, (fname, name, hp, sweep, *steps_override) in enumerate(CASES):
        starts = ROSEN_STARTS if fname == "rosenbrock" else QUARTIC_STARTS
        steps = ROSEN_STEPS if fname == "rosenbrock" else QUARTIC_STEPS
        steps = steps_override[0] if steps_override else steps
        key = f"case{k:02d}"
        arrays[key] = run_torch(fname, name, hp, sweep, starts, steps)
        if sweep:
            torch_kw = [torch_settings(name, {kk: (v[i] if isinstance(v, list) else v)
                                              for kk, v in hp.items()})[1]
                        for i in range(len(starts))]
        else:
            torch_kw = torch_settings(name, hp)[1]
        cls = torch_settings(name, {kk: (v[0] if isinstance(v, list) else v)
                                    for kk, v in hp.items()})[0]
        meta["cases"].append({
            "key": key, "function": fname, "optimizer": name, "hyperparams": hp, "sweep": sweep,
            "starts": starts, "steps": steps, "torch_class": cls.__name__,
            "torch_kwargs": json.loads(json.dumps(torch_kw)),
            "compare": "lookahead" if name == "NAG" else "iterates",
        })  # fmt: skip
    arrays["meta_json"] = np.array(json.dumps(meta, indent=1))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    OUT.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.1f} KiB, {len(CASES)} cases, "
          f"torch {torch.__version__})")


if __name__ == "__main__":
    main()
