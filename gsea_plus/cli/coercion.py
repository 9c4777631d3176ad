"""Command-line values coerced without pydantic (typer 0.29), for a faster start.

typer 0.29 turns every parameter value (defaults included) into its annotated type through
a pydantic ``TypeAdapter`` built per parameter on first use: importing pydantic and
building the 15 adapters of ``gsea-plus enrich`` costs about 100 ms of CPU in a 0.5 s run
(``benchmarks/startup_bench.py``). :func:`install` replaces typer's
``build_runtime_param`` with one that handles the simple annotations gsea-plus declares
(``str``, ``int``/``float`` with ``min``/``max``, ``Path``, ``Enum`` choices, ``list`` of
those, ``X | None``) in plain Python, and hands any value it does not accept, and any
other annotation, to typer's own pydantic path, so error messages stay exactly typer's
(``Input should be a valid integer...``) and pydantic is imported only when a value is
wrong. ``tests/test_coercion.py`` checks it against typer's own path value by value.

Set ``GSEA_PLUS_TYPER_PYDANTIC=1`` to keep typer's own path (or when a new typer changes
its layout, :func:`install` leaves typer alone by itself).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Union, cast, get_args, get_origin

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


class _Refused(Exception):
    """The fast path does not take this value: typer's pydantic path decides."""


def _leaf(annotation: Any, info: Any) -> Any | None:
    """A converter for one annotation, or ``None`` when the fast path does not cover it."""
    from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path

    if getattr(info, "parser", None) is not None or getattr(info, "clamp", False):
        return None
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = list(annotation)

        def choice(value: Any, ctx: Any, param: Any) -> Any:
            try:
                return coerce_cli_choice(
                    value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx
                )
            except ValueError as exc:
                raise _Refused from exc

        return choice
    if annotation is bool:

        def flag(value: Any, ctx: Any, param: Any) -> Any:
            if isinstance(value, bool):
                return value
            raise _Refused

        return flag
    if annotation is str:

        def text(value: Any, ctx: Any, param: Any) -> Any:
            if isinstance(value, str):
                return value
            raise _Refused

        return text
    if annotation in (int, float):
        pattern = _INT if annotation is int else _FLOAT
        low, high = info.min, info.max

        def number(value: Any, ctx: Any, param: Any) -> Any:
            if isinstance(value, str) and pattern.fullmatch(value):
                value = annotation(value)
            elif type(value) is not annotation:
                raise _Refused
            if (low is not None and value < low) or (high is not None and value > high):
                raise _Refused
            return value

        return number
    if isinstance(annotation, type) and issubclass(annotation, Path):
        if not routes_to_path(annotation, info):  # pragma: no cover - always true for Path
            return None
        path_type = info.path_type or annotation

        def path(value: Any, ctx: Any, param: Any) -> Any:
            if isinstance(value, str) and value:
                value = path_type(value)
            if not isinstance(value, path_type):
                raise _Refused
            return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)

        return path
    return None


@dataclass(frozen=True)
class _FastParam:
    """A typer RuntimeParam: the fast converter first, typer's own on refusal."""

    annotation: Any
    convert: Any
    fallback: Any  # () -> typer's RuntimeParam, built only when needed

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        from typer._click.exceptions import BadParameter

        is_multi = param.multiple or param.nargs == -1
        if value is None:
            return () if is_multi else None
        if is_multi and isinstance(value, str):
            raise BadParameter("Value must be an iterable.", ctx=ctx, param=param)
        try:
            return self.convert(value, ctx, param)
        except _Refused:
            return self.fallback().coerce(value, param=param, ctx=ctx)


#: Set to 1 to keep typer's own (pydantic) coercion.
KEEP_TYPER_ENV = "GSEA_PLUS_TYPER_PYDANTIC"


def install() -> bool:
    """Patch typer (0.29's layout) to coerce simple values without pydantic.

    Returns whether the patch was installed (``False`` for another typer layout, or when
    ``GSEA_PLUS_TYPER_PYDANTIC=1``). Installing twice changes nothing.
    """
    import os

    if os.environ.get(KEEP_TYPER_ENV, "").strip() not in ("", "0"):
        return False
    try:
        import typer.core as core
        from typer import _coercion
    except ImportError:  # pragma: no cover
        return False
    found = getattr(_coercion, "build_runtime_param", None)
    current = getattr(core, "build_runtime_param", None)
    if getattr(current, "gsea_plus_fast", False):
        return True
    if found is None or current is not found:
        return False
    original = cast("Callable[[Any], Any]", found)

    def build(descriptor: Any) -> Any:
        annotation = descriptor.annotation
        info = descriptor.parameter_info
        if descriptor.file_annotation is not None:
            return original(descriptor)
        args = get_args(annotation)
        if (
            get_origin(annotation) in (Union, types.UnionType)
            and type(None) in args
            and len(args) == 2
        ):
            annotation = next(a for a in args if a is not type(None))
        if get_origin(annotation) is list and len(get_args(annotation)) == 1:
            item = _leaf(get_args(annotation)[0], info)
            if item is None:
                return original(descriptor)

            def many(value: Any, ctx: Any, param: Any) -> Any:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [item(v, ctx, param) for v in items]

            convert: Callable[[Any, Any, Any], Any] = many
        else:
            leaf = _leaf(annotation, info)
            if leaf is None:
                return original(descriptor)
            convert = leaf
        cache: list = []

        def fallback() -> Any:
            if not cache:
                cache.append(original(descriptor))
            return cache[0]

        return _FastParam(annotation, convert, fallback)

    build.gsea_plus_fast = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
    return True
