"""Edits of labels a person works on: one-gesture ``corrections`` from a run's kept scores (and
their write), what the scores say over a region (``likely``: its likely classes, a click's menu,
the runner-up), ``snap`` to the image's edges, the ``record`` of which edit wrote each pixel,
``merge`` of new labels into edited ones, and the ``uncertain`` regions to look at first. The
Correct dock and ``benchmarks/bench_corrections.py`` call the same functions.

May import: ``core.errors``, ``core.events``, ``core.checks``, ``core.models``, ``core.run``.
"""
