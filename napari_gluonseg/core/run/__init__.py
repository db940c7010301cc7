"""One run: an image or stack segmented. ``options`` (what a run may be asked), ``plan`` (checked
once, before anything loads), ``estimate`` and ``memory`` (its time and peak), ``layout`` with
``large_windows`` and ``tiling`` (how passes cover the image), ``preprocess``, ``resize`` and
``postprocess``, ``execute`` (the run as progress events), ``scores`` and ``result`` (what it
returns), ``segment`` (the public entry points), ``stop`` (ending a run from another thread).

May import: ``core.errors``, ``core.events``, ``core.checks``, ``core.models``.
"""
