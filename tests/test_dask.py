"""The explore views on Dask give exactly the numbers of the single-process run.

A 2-worker :class:`distributed.LocalCluster` in this process (``processes=False`` keeps it
quick) runs the chunks of starts; every view's result is compared bit for bit with the local
run, progress is reported per chunk, and an exception from ``progress`` cancels the chunks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import functions
import optviz
from optviz.explore import scale

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def _same_finals(a: scale.Finals, b: scale.Finals) -> None:
    assert a.names == b.names
    for name in a.names:
        for attr in ("error", "steps_to_tol", "diverged_step", "nearest", "loss"):
            np.testing.assert_array_equal(getattr(a, attr)[name], getattr(b, attr)[name],
                                          err_msg=f"{name}.{attr}")


def test_basins_on_dask_equal_the_local_run(client):
    kw = {"grid": 40, "steps": 30, "noise": 0.3, "seed": 4}  # 1,600 starts: two chunks
    opts = {"SGD": {"eta": 0.01}, "Adam": {"alpha": 0.1}}
    here = optviz.basins("himmelblau", opts, **kw)
    seen = []
    there = optviz.basins("himmelblau", opts, client=client, progress=lambda d, t: seen.append((d, t)), **kw)
    for name in here.names:
        for attr in ("final_error", "steps_to_tol", "minimum", "diverged"):
            np.testing.assert_array_equal(getattr(here, attr)[name], getattr(there, attr)[name])
    assert there.share_converged == here.share_converged
    total = 2 * 1600 * 30
    assert seen[-1] == (total, total) and len(seen) == 2


def test_sweeps_of_run_options_and_comparisons_on_dask_equal_local(client):
    box = functions.get("booth").box
    kw = {"starts": optviz.scene.starts.random(box, 6, seed=0), "steps": 40, "seeds": 2}
    here = optviz.sweep("booth", ["SGD", "Adam"], "noise", [0.0, 0.5, 2.0], **kw)
    there = optviz.sweep("booth", ["SGD", "Adam"], "noise", [0.0, 0.5, 2.0], client=client, **kw)
    for name in here.names:
        np.testing.assert_array_equal(here.error[name], there.error[name])
        np.testing.assert_array_equal(here.steps_to_tol[name], there.steps_to_tol[name])
        assert here.best == there.best

    ckw = {"functions": ["booth", "himmelblau"], "optimizers": ["SGD", "MSGD"], "budget": 3, "steps": 40,
           "tune_starts": 3, "test_starts": 3, "seed": 5}

    def doc(c):
        d = c.to_json()
        d.pop("elapsed_s")
        return json.dumps(d, allow_nan=False)

    assert doc(optviz.compare(**ckw)) == doc(optviz.compare(**ckw, client=client))


def _batch(n: int = 120) -> scale.Batch:
    fn = functions.get("rosenbrock")
    starts = optviz.scene.starts.random(fn.box, n, seed=3)
    opts = {"SGD": {"eta": np.geomspace(1e-4, 1e-2, n)}, "SantaE": {"eta": 1e-3, "burnin": 10}}
    return scale.Batch(fn, opts, starts, 25, seed=np.arange(n, dtype=np.uint64), tol=1e-3,
                       options={"noise": 1.0, "delay": 2})


def test_small_chunks_per_point_settings_and_noise_are_exact(client):
    b = _batch()
    seen = []
    _same_finals(scale.run_batch(b), scale.run_batch(b, client=client, chunk_points=7,
                                                     progress=lambda d, t: seen.append(d)))
    assert len(seen) == 18 and seen[-1] == b.work


def test_the_compiled_path_is_chosen_once_for_every_chunk(client):
    pytest.importorskip("numba")
    b = scale.Batch(functions.get("himmelblau"), {"SGD": {"eta": 0.01}},
                    optviz.scene.starts.random(functions.get("himmelblau").box, 200, seed=1), 40, tol=1e-3)
    here = scale.run_batch(b, fused=True)
    there = scale.run_batch(b, client=client, fused=True, chunk_points=64)
    assert here.path == there.path == "fast"
    _same_finals(here, there)


def test_an_exception_from_progress_cancels_the_chunks(client):
    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        scale.run_batch(_batch(), client=client, chunk_points=10, progress=stop)
    # the cluster is still usable afterwards
    _same_finals(scale.run_batch(_batch(20)), scale.run_batch(_batch(20), client=client))


def test_python_rules_and_adapters_are_registered_on_the_workers(client):
    """A worker process knows only the built-ins: a batch carries its Python rules (their functions
    by value, as Dask's cloudpickle sends them) and adapters (how to build them again), and the
    worker registers them. Here the batch goes through Dask's own pickling, the rules are removed
    from the registry (a fresh worker's), and a worker runs the chunk: the same numbers."""
    torch = pytest.importorskip("torch")
    from distributed.protocol import pickle as dask_pickle

    from optviz.optimizers import REGISTRY, custom

    def update(g, m, eta, mu):  # defined here: Dask sends it by value
        m = mu * m + g
        return -eta * m, m

    optviz.rule("ShippedMomentum", update, state={"m": lambda m0: m0},
                hyperparams={"eta": (0.01, 0, 1), "mu": (0.9, 0, 0.999), "m0": (0.1, -1, 1)})
    optviz.from_torch(torch.optim.Adam, name="ShippedTorchAdam", lr=0.05)
    try:
        fn = functions.get("himmelblau")
        b = scale.Batch(fn, {"ShippedMomentum": {}, "ShippedTorchAdam": {}, "Adam": {}},
                        optviz.scene.starts.random(fn.box, 40, seed=2), 20, tol=1e-3, options={"noise": 0.3})
        assert set(b.specs) == {"ShippedMomentum", "ShippedTorchAdam"}
        here = scale.run_batch(b, fused=False)
        _same_finals(here, scale.run_batch(b, client=client, chunk_points=20))
        sent = dask_pickle.dumps(b)
    finally:
        custom.unregister("ShippedMomentum")
        custom.unregister("ShippedTorchAdam")
    try:
        there = client.submit(scale.evaluate, dask_pickle.loads(sent), False, 1, pure=False).result()
        _same_finals(here, there)
        assert REGISTRY["ShippedTorchAdam"].mode == "torch: one (n, d) parameter (elementwise)"  # built there
    finally:
        custom.unregister("ShippedMomentum")
        custom.unregister("ShippedTorchAdam")


def test_a_rule_that_cannot_be_sent_is_refused_in_one_line(client):
    import threading

    from optviz.optimizers import custom

    lock = threading.Lock()

    def update(g, eta):
        assert lock is not None
        return -eta * g

    optviz.rule("Unsendable", update, hyperparams={"eta": (0.01, 0, 1)})
    try:
        b = scale.Batch(functions.get("booth"), {"Unsendable": {}}, np.zeros((4, 2)), 5)
        with pytest.raises(ValueError, match=r"^Unsendable: this Python rule cannot be sent to Dask workers "
                                             r"\(TypeError: .*lock.*\); run it in this process") as info:
            scale.run_batch(b, client=client)
        assert "\n" not in str(info.value)
    finally:
        custom.unregister("Unsendable")


def test_scheduler_local_starts_and_closes_a_cluster(monkeypatch):
    made = []

    class Quick(distributed.LocalCluster):
        def __init__(self, **kw):
            made.append(kw)
            super().__init__(**{**kw, "processes": False, "n_workers": 2})

    monkeypatch.setattr(distributed, "LocalCluster", Quick)
    b = _batch(30)
    _same_finals(scale.run_batch(b), scale.run_batch(b, scheduler="local"))
    assert made and made[0]["threads_per_worker"] == 1 and made[0]["processes"]


def test_bad_schedulers(monkeypatch):
    monkeypatch.setattr(scale, "CONNECT_TIMEOUT", 1)
    with pytest.raises(ValueError, match="tcp://host:8786"):
        optviz.basins("booth", ["SGD"], grid=2, scheduler="localhost")
    with pytest.raises(ValueError, match="could not reach the Dask scheduler"):
        scale.run_batch(_batch(4), scheduler="tcp://127.0.0.1:9")
