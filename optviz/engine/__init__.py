"""The work: step every optimizer over a batch of starts (``run``), on the readable NumPy/array-API
path (``reference``) or the compiled kernels (``fast``), and what a run returns (``result``).

It takes arrays and objects, never a scene's text: :mod:`optviz.scene` turns what users type into
those. ``optviz.engine.run.run`` is ``optviz.run``.
"""
