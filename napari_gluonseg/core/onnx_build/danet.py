"""DANet (``gluoncv/model_zoo/danet.py``). Not built yet: runs with MXNet."""

from __future__ import annotations

from . import Builder

BUILDERS: dict[str, Builder] = {}
