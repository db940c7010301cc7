"""Files: ``images`` read strictly, ``names`` of an export set's files, and export sets (labels,
overlay, class table, provenance, probability maps, kept scores) written whole (``export``) and
read back, checked (``read_export``).

May import: ``core.errors``, ``core.events``, ``core.checks``, ``core.models``, ``core.run``.
"""
