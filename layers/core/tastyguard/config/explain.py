"""Turn a pydantic ``ValidationError`` into problems a trader can act on.

Each problem names the field as the YAML file writes it (``accounts[0].policy.symbols.TSLA.kind``), what
was given, and what is allowed: ``accounts[0].mode: 'liev' is not one of observe, shadow, live``.
"""

from __future__ import annotations

import difflib
import enum
import types
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from tastyguard.config.models import TastyguardConfig
from tastyguard.config.problems import Problem

Loc = tuple[str | int, ...]


def yaml_path(loc: Sequence[str | int]) -> str:
    """``('accounts', 0, 'mode')`` → ``accounts[0].mode``."""
    text = ''
    for part in loc:
        if isinstance(part, int):
            text += f'[{part}]'
        else:
            text += f'.{part}' if text else str(part)
    return text


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _walk(loc: Loc, root: type[BaseModel]) -> Any:
    """The type expected at ``loc`` (``X | None`` and ``Annotated`` stripped), or None when unknown."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        origin = get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif origin is dict:
            current = get_args(current)[1]
        elif origin in (tuple, list):
            current = get_args(current)[0]
        else:
            return None
    return _unwrap(current)


def _allowed(annotation: Any) -> str | None:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return ', '.join(str(member.value) for member in annotation)
    return None


def _given(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Decimal):
        return str(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def _expected(ctx: Mapping[str, Any] | None) -> str:
    """pydantic's ``"'a', 'b' or 'c'"`` → ``a, b, c``."""
    text = str((ctx or {}).get('expected', ''))
    return text.replace(' or ', ', ').replace("'", '')


_KIND_WORDS = {
    'int_parsing': 'a whole number',
    'int_type': 'a whole number',
    'int_from_float': 'a whole number',
    'decimal_parsing': 'a number',
    'decimal_type': 'a number',
    'bool_parsing': 'true or false',
    'bool_type': 'true or false',
    'string_type': 'text',
    'time_parsing': "a time of day like '16:30'",
    'time_type': "a time of day like '16:30'",
    'dict_type': 'a mapping (key: value lines)',
    'model_type': 'a mapping (key: value lines)',
    'model_attributes_type': 'a mapping (key: value lines)',
    'list_type': 'a list (lines starting with -)',
    'tuple_type': 'a list (lines starting with -)',
}


def _message(error: ErrorDetails, root: type[BaseModel]) -> tuple[Loc, str] | None:
    """The path and the sentence for one error; None for an error that only echoes another one."""
    loc: Loc = tuple(error['loc'])
    kind, given, ctx = error['type'], error.get('input'), error.get('ctx')
    if loc and loc[-1] == '[key]':
        loc = loc[:-1]
        if kind in ('enum', 'literal_error'):
            return loc, f'unknown key {_given(loc[-1])}; allowed: {_expected(ctx)}'
        msg = str(error['msg'])
        return loc, f'key {_given(loc[-1])}: {msg[:1].lower()}{msg[1:]}'
    if kind in ('enum', 'literal_error'):
        return loc, f'{_given(given)} is not one of {_expected(ctx)}'
    if kind == 'extra_forbidden':
        parent = _walk(loc[:-1], root)
        name = str(loc[-1])
        model = parent if isinstance(parent, type) and issubclass(parent, BaseModel) else None
        fields = sorted(f.alias or n for n, f in model.model_fields.items()) if model is not None else []
        hint = difflib.get_close_matches(name, fields, n=1)
        text = f'unknown setting {name!r}' + (f" (did you mean '{hint[0]}'?)" if hint else '')
        return loc, text + (f'; allowed here: {", ".join(fields)}' if fields else '')
    if kind == 'missing':
        expected = _walk(loc, root)
        allowed = _allowed(expected)
        return loc, 'is required' + (f'; allowed: {allowed}' if allowed else '')
    if kind in ('value_error', 'assertion_error'):
        return loc, str(error['msg']).removeprefix('Value error, ').removeprefix('Assertion failed, ')
    if kind == 'string_pattern_mismatch' and loc and loc[-1] == 'account_number':
        return loc, f'{_given(given)} is not a tastytrade account number (letters and digits, e.g. 5WX01234)'
    if kind == 'too_short' and (ctx or {}).get('actual_length', 0) < len(given or ()):
        return None  # items were dropped because they failed; those failures are reported already
    if kind == 'too_short' and loc == ('accounts',):
        return loc, 'at least one account is required'
    if kind in _KIND_WORDS:
        return loc, f'{_given(given)} is not {_KIND_WORDS[kind]}'
    msg = str(error['msg'])
    return loc, f'{_given(given)}: {msg[:1].lower()}{msg[1:]}'


def _line(loc: Loc, lines: Mapping[Loc, int] | None) -> int | None:
    """The line of ``loc`` in the file, or of its nearest parent that is written there."""
    if not lines:
        return None
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def explain(
    error: ValidationError, lines: Mapping[Loc, int] | None = None, root: type[BaseModel] = TastyguardConfig
) -> tuple[Problem, ...]:
    """One :class:`Problem` per validation error, with the YAML line when ``lines`` maps paths to lines."""
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        explained = _message(item, root)
        if explained is None:
            continue
        loc, message = explained
        problems.append(Problem(path=yaml_path(loc), message=message, line=_line(loc, lines)))
    return tuple(problems)
