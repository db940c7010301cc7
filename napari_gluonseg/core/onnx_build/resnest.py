"""DeepLabV3 on ResNeSt (``gluoncv/model_zoo/resnest.py``, ``deeplabv3.py``). Not built yet: runs with MXNet."""

from __future__ import annotations

from . import Builder

BUILDERS: dict[str, Builder] = {}
