"""DeepLabV3+ on WideResNet38 (``gluoncv/model_zoo/deeplabv3b_plus.py``, ``wideresnet.py``). Not built yet: runs with MXNet."""

from __future__ import annotations

from . import Builder

BUILDERS: dict[str, Builder] = {}
