"""Learning problems as test functions: the point is a model's parameters, the value its training loss.

Minibatch draws: :func:`functions.problems.minibatch.batch_indices` (a pure function of seed and step).
"""
