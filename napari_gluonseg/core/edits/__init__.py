"""Edits of labels a person works on: one-gesture ``corrections`` from a run's kept scores, the
``record`` of which edit wrote each pixel, ``merge`` of new labels into edited ones, and the
``uncertain`` regions to look at first.

May import: ``core.errors``, ``core.events``, ``core.checks``, ``core.models``, ``core.run``.
"""
