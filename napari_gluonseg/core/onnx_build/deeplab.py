"""DeepLabV3 on the dilated ResNets (``gluoncv/model_zoo/deeplabv3.py``). Not built yet: runs with MXNet."""

from __future__ import annotations

from . import Builder

BUILDERS: dict[str, Builder] = {}
