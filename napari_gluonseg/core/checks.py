"""Checking argument values: each function returns the value as plain Python or raises
:class:`OptionError` naming the argument and the value.

numpy scalars count as the numbers and bools they are (``np.float32(1.0)``, ``np.int64(64)``,
``np.bool_(True)``); a bool is never a number and a number never a bool; a bare string where
names are expected is one name.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, TypeGuard

import numpy as np

from .errors import OptionError

Name = str | int


def shown(value: Any) -> str:
    """How a value is named in a message: numpy scalars as the plain numbers they are
    (numpy 2's repr would say ``np.float32(0.0)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def flag(value: Any, name: str) -> bool:
    """A bool (Python or numpy)."""
    if not _is_bool(value):
        raise OptionError(f"{name} must be True or False; got {shown(value)}.")
    return bool(value)


def optional_flag(value: Any, name: str) -> bool | None:
    """A bool or None (None: guessed by the caller)."""
    if value is not None and not _is_bool(value):
        raise OptionError(f"{name} must be True, False or None; got {shown(value)}.")
    return None if value is None else bool(value)


def is_real(value: Any) -> bool:
    """A finite or infinite real number, not a bool (numpy scalars included)."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def is_integer(value: Any) -> TypeGuard[numbers.Integral]:
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def real_in(value: Any, name: str, lo: float, hi: float, *, open_low: bool = False) -> float:
    """A real number in [lo, hi] (or (lo, hi] with ``open_low``) as a Python float."""
    bounds = f"{'(' if open_low else '['}{lo:g}, {hi:g}]"
    if is_real(value):
        x = float(value)
        if (lo < x if open_low else lo <= x) and x <= hi:
            return x
    raise OptionError(f"{name} must be a number in {bounds}; got {shown(value)}.")


def integer_at_least(value: Any, name: str, least: int, allowed: str = "") -> int:
    """An integer >= ``least`` as a Python int; ``allowed`` lists the other accepted values."""
    if is_integer(value) and int(value) >= least:
        return int(value)
    raise OptionError(f"{name} must be {allowed}an integer >= {least}; got {shown(value)}.")


def names(value: Any, name: str) -> tuple[Name, ...]:
    """Class or label names/indices: one name or index, or an iterable of them; None: none."""
    if value is None:
        return ()
    what = f"{name} must be class names or indices"
    items = [value] if isinstance(value, str) or is_integer(value) else _items(value, what)
    for item in items:
        if not (isinstance(item, str) or is_integer(item)):
            raise OptionError(f"{what}; got {shown(item)}.")
    return tuple(item if isinstance(item, str) else int(item) for item in items)


def factors(value: Any, name: str, lo: float, hi: float) -> tuple[float, ...]:
    """An iterable of real factors in [lo, hi] (a bare number is refused: which list?)."""
    if isinstance(value, str) or is_real(value):
        raise OptionError(
            f"{name} must be a list of factors, e.g. (0.75, 1.25); got {shown(value)}."
        )
    out = []
    for f in _items(value, f"{name} must be a list of factors"):
        if not (is_real(f) and lo <= float(f) <= hi):
            raise OptionError(f"{name} must be factors in [{lo:g}, {hi:g}]; got {shown(f)}.")
        out.append(float(f))
    return tuple(out)


def value_range(value: Any, name: str) -> tuple[float, float] | None:
    """None, or (lo, hi): two finite numbers with lo < hi."""
    if value is None:
        return None
    what = f"{name} must be (lo, hi), two finite numbers with lo < hi"
    pair = None if isinstance(value, str) or is_real(value) else _items(value, what)
    if pair is not None and len(pair) == 2 and all(is_real(v) for v in pair):
        lo, hi = float(pair[0]), float(pair[1])
        if math.isfinite(lo) and math.isfinite(hi) and lo < hi:
            return lo, hi
    raise OptionError(f"{what}; got {shown(value)}.")


def optional_path(value: Any, name: str, what: str) -> str | os.PathLike | None:
    """None or a path (str or os.PathLike); ``what`` says what the path is of."""
    if value is None or isinstance(value, (str, os.PathLike)):
        return value
    raise OptionError(f"{name} must be a path to {what} or None; got {shown(value)}.")


def path_list(value: Any, name: str, what: str) -> list[str | os.PathLike]:
    """One path (str or os.PathLike) or an iterable of them, as a non-empty list; ``what``
    says what the paths are of."""
    if isinstance(value, (str, os.PathLike)):
        return [value]
    message = f"{name} must be {what} (paths or str), one or a list of them"
    items: list[Any] = _items(value, message) if value is not None else [None]
    paths = [item for item in items if isinstance(item, (str, os.PathLike))]
    if len(paths) < len(items):
        wrong = next(item for item in items if not isinstance(item, (str, os.PathLike)))
        raise OptionError(f"{message}; got {shown(wrong)}.")
    if not paths:
        raise OptionError(f"{name}: none given; {message}.")
    return paths


def required_path(value: Any, name: str, what: str) -> str | os.PathLike:
    """A path (str or os.PathLike); ``what`` says what it is a path to."""
    if isinstance(value, (str, os.PathLike)):
        return value
    raise OptionError(f"{name} must be a path to {what}; got {shown(value)}.")


def _items(value: Any, what: str) -> list:
    """``list(value)``; ``what`` starts the message if ``value`` is not iterable."""
    try:
        return list(value)
    except TypeError:
        raise OptionError(f"{what}; got {shown(value)}.") from None
