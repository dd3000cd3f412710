"""Learning problems as test functions: the point is a model's parameters, the value its training loss.

``functions.get("moons-mlp")`` is a :class:`~functions.problems.base.Problem` of dimension 65 (the
network's parameters): ``value``/``grad`` are the full-batch training loss and its gradient,
vectorized over points like every test function; ``grad_batch(w, idx)`` the gradient on a
minibatch, ``test_loss``, ``accuracy`` and ``outputs`` what a viewer draws. The problems are listed
in :mod:`functions.problems.catalog`; minibatch draws are
:func:`functions.problems.minibatch.batch_indices` (a pure function of seed and step).
"""

from functions.problems.base import Problem, Task, is_problem
from functions.problems.catalog import FAMILIES
from functions.problems.minibatch import batch_indices, batch_table, check_batch, check_problem_batch

PROBLEMS = tuple(f.name for f in FAMILIES)
"""The registry names of the learning problems."""

__all__ = ["FAMILIES", "PROBLEMS", "Problem", "Task", "batch_indices", "batch_table", "check_batch",
           "check_problem_batch", "is_problem"]
