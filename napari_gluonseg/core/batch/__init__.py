"""Folders: which ``inputs`` a batch runs on, its ``settings``, each ``image`` segmented or skipped,
the ``summary``, the whole ``folder`` run here or on a Dask ``cluster`` (stopped by ``ctrl_c``
in a terminal), and the ``review`` of its results by a person.

May import everything else in ``core``.
"""
