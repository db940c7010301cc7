"""ICNet (``gluoncv/model_zoo/icnet.py``). Not built yet: runs with MXNet."""

from __future__ import annotations

from . import Builder

BUILDERS: dict[str, Builder] = {}
