"""Files: ``atomic`` writes (whole or not at all), ``images`` read strictly, and ``export`` sets
(labels, overlay, class table, provenance, probability maps, kept scores) written and read back.

May import: ``core.errors``, ``core.events``, ``core.checks``, ``core.models``, ``core.run``.
"""
