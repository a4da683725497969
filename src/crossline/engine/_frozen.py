"""Building frozen dataclass instances on the hot path.

A frozen dataclass's generated `__init__` stores every field through `object.__setattr__`,
which looks the field up by name each time: about half the cost of building a `Finding` or a
`Decision`, several of which `evaluate` builds for every decision. `slot_setters(cls)` returns
the field slots' own setters, in field order; calling them stores exactly what `__init__`
would, so `new(cls)` followed by one setter call per field builds an instance equal to
`cls(*values)`. Only for slotted dataclasses without `__post_init__` and with every field
passed explicitly (checked here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

Setter = Callable[[Any, Any], None]


def slot_setters(cls: type[Any]) -> tuple[Setter, ...]:
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__: build it with its constructor")
    names = [f.name for f in fields(cls)]
    if tuple(names) != tuple(cls.__slots__):
        raise TypeError(f"{cls.__name__}: fields {names} are not its slots {cls.__slots__}")
    setters: tuple[Setter, ...] = tuple(vars(cls)[n].__set__ for n in names)
    return setters


def new(cls: type[Any]) -> Any:
    """An instance with no field set yet: set every one with `slot_setters(cls)`."""
    return object.__new__(cls)


# `new` itself, for the hot path: `object.__new__`, without a Python call around it.
new_instance: Callable[[type[Any]], Any] = object.__new__
