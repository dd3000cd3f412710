"""The race in the browser, for every host: the dashboard, the single web page and the notebook.

One front end (``assets/race.js`` with a thin adapter per host in ``assets/hosts``, joined by
:mod:`~optviz.live.frontend`) draws and plays the race from packed numbers, and switches slider
positions without asking Python. This room makes those numbers from a scene's runs:

- :mod:`~optviz.live.sliders`: the fixed positions of every hyperparameter slider;
- :mod:`~optviz.live.sweeps`: one engine run per slider, every position at once, packed for the
  browser (quantized positions, divergence rows, error quantiles);
- :mod:`~optviz.live.payload`: the front end's whole data for one scene;
- :mod:`~optviz.live.html`: the race as one self-contained web page (``optviz render --out x.html``).

It imports nothing from :mod:`optviz.dashboard` or :mod:`optviz.notebook`, which host it.
"""
