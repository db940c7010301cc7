"""Regenerate the generated columns of the model card (``napari_gluonseg/core/models/card.py``):
each model's zoo sha1 (gluoncv's ``model_store._model_sha1``) and its GMAC per megapixel
(``scripts/count_macs.py``). Needs the ``[mxnet]`` extra.

    .venv/bin/python scripts/gen_card.py [MODEL ...]   # default: every row (minutes)

The other columns (name, dataset, family) are written by hand; a new model's row starts with
sha1 ``""`` and GMAC ``0, 0``. Only the ``MODELS`` block is rewritten, in the card's own layout
(tests/core/models/test_card.py checks that the unchanged rows give the unchanged text).
"""

import re
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

CARD = Path(__file__).resolve().parents[1] / "napari_gluonseg" / "core" / "models" / "card.py"
# The block's opening line and column headings (kept), then its rows (rewritten).
_BLOCK = re.compile(
    r"^(MODELS: tuple\[ModelRow, \.\.\.\] = \(\n(?:[ \t]*#[^\n]*\n)*)(.*?)^\)\n", re.M | re.S
)


def with_rows(text: str, rows: Iterable) -> str:
    """``text`` (the card's source) with its MODELS block written from ``rows``."""
    lines = []
    for r in rows:
        name, dataset, family = (f'"{v}",' for v in (r.name, r.dataset, r.family))
        gmac = f"{r.gmac_per_mp:5.0f}, {r.gmac_per_mp2:4.0f},"
        lines.append(f"    ModelRow({name:<37}{dataset:<14}{family:<19}{gmac}\n")
        lines.append(f'             "{r.sha1}"),\n')
    if not _BLOCK.search(text):
        raise SystemExit(f"no MODELS block in {CARD}")
    return _BLOCK.sub(lambda m: m[1] + "".join(lines) + ")\n", text, count=1)


def main() -> None:
    from count_macs import gmac_coefficients  # beside this script

    from napari_gluonseg.core.models import _mxnet, card

    store = _mxnet.gluoncv_module("gluoncv.model_zoo.model_store")
    names = set(sys.argv[1:]) or {r.name for r in card.MODELS}
    unknown = names - {r.name for r in card.MODELS}
    if unknown:
        raise SystemExit(f"no row for {', '.join(sorted(unknown))}: add it to {CARD} first")
    rows = []
    for row in card.MODELS:
        if row.name in names:
            a, b = gmac_coefficients(row.name)
            row = replace(row, sha1=store._model_sha1[row.name], gmac_per_mp=a, gmac_per_mp2=b)
            print(f"{row.name}: {row.sha1}, ({a:.0f}, {b:.0f})", flush=True)
        rows.append(row)
    CARD.write_text(with_rows(CARD.read_text(), rows))
    print(f"wrote {CARD} ({len(names)} rows regenerated)")


if __name__ == "__main__":
    main()
