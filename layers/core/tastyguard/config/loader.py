"""Loading ``tastyguard.yaml`` into a validated :class:`~tastyguard.config.models.TastyguardConfig`.

The YAML reader is strict where YAML 1.1 surprises people:

* numbers with a fraction become :class:`~decimal.Decimal` (never ``float``);
* only ``true``/``false`` are booleans, so a ticker like ``ON`` or ``NO`` stays a string;
* ``16:30`` is a string (YAML 1.1 would read it as the base-60 number 990);
* a key written twice in one mapping is an error (YAML would silently keep the last one).

Nothing is read from environment variables. Lambdas never parse YAML: the deploy step writes the
validated config as JSON (:func:`config_to_json`) and they read it with :func:`load_config_json`, so
PyYAML stays out of the Lambda layer (it is imported lazily here, only when YAML is read).
"""

from __future__ import annotations

import functools
import hashlib
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from tastyguard.config.explain import Loc, explain
from tastyguard.config.models import TastyguardConfig
from tastyguard.config.problems import ConfigError, Problem

if TYPE_CHECKING:
    import yaml

DEFAULT_PATH = Path('tastyguard.yaml')

_BOOL = re.compile(r'^(?:true|True|TRUE|false|False|FALSE)$')
_INT = re.compile(r'^[-+]?(?:0|[1-9][0-9_]*)$')
_FLOAT = re.compile(r'^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$|^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$')


@functools.cache
def _loader_class() -> type[yaml.SafeLoader]:
    import yaml  # noqa: PLC0415 - only the CLI and the deploy step read YAML

    class StrictLoader(yaml.SafeLoader):
        """SafeLoader with Decimal numbers, YAML 1.2 booleans, no base-60 and no duplicate keys."""

    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag.rsplit(':', 1)[-1] not in ('bool', 'int', 'float')]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    StrictLoader.yaml_implicit_resolvers = resolvers
    StrictLoader.add_implicit_resolver('tag:yaml.org,2002:bool', _BOOL, list('tTfF'))
    StrictLoader.add_implicit_resolver('tag:yaml.org,2002:int', _INT, list('-+0123456789'))
    StrictLoader.add_implicit_resolver('tag:yaml.org,2002:float', _FLOAT, list('-+0123456789.'))

    def decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
        return Decimal(str(loader.construct_scalar(node)).replace('_', ''))  # type: ignore[arg-type]

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'{key!r} is written twice in the same mapping', key_node.start_mark
                )
            seen.add(key)
        return loader.construct_mapping(node)

    StrictLoader.add_constructor('tag:yaml.org,2002:float', decimal)
    StrictLoader.add_constructor('tag:yaml.org,2002:map', mapping)
    return StrictLoader


def _lines(node: yaml.Node, path: Loc = (), out: dict[Loc, int] | None = None) -> dict[Loc, int]:
    """Map every path in the document to its 1-based line number."""
    import yaml  # noqa: PLC0415

    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            out[child] = key_node.start_mark.line + 1
            _lines(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, (*path, index), out)
    return out


def read_yaml(text: str, source: str = '<string>') -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text strictly; returns the data and a path → line map. Raises :class:`ConfigError`."""
    import yaml  # noqa: PLC0415

    loader = _loader_class()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        return loader.construct_document(node), _lines(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = ' '.join(part for part in (exc.context, exc.problem) if part) or 'invalid YAML'
        raise ConfigError(source, [Problem(path='', message=f'YAML syntax: {message}', line=line)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [Problem(path='', message=f'YAML syntax: {exc}')]) from None
    finally:
        loader.dispose()


def parse_config(data: Any, source: str = '<config>', lines: dict[Loc, int] | None = None) -> TastyguardConfig:
    """Validate already-parsed data. Raises :class:`ConfigError` listing every problem."""
    if data is None:
        raise ConfigError(source, [Problem(path='', message='the file is empty; start from tastyguard.example.yaml')])
    if not isinstance(data, dict):
        raise ConfigError(source, [Problem(path='', message='the top level must be a mapping (key: value lines)')])
    try:
        return TastyguardConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, explain(exc, lines)) from None


def parse_config_text(text: str, source: str = '<string>') -> TastyguardConfig:
    """Parse and validate YAML text."""
    data, lines = read_yaml(text, source)
    return parse_config(data, source, lines)


def load_config(path: str | Path = DEFAULT_PATH) -> TastyguardConfig:
    """Read and validate a YAML config file. Raises :class:`ConfigError` (missing file included)."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        hint = 'copy tastyguard.example.yaml to tastyguard.yaml and edit it'
        raise ConfigError(str(path), [Problem(path='', message=f'no such file; {hint}')]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [Problem(path='', message=f'cannot read the file: {exc}')]) from None
    return parse_config_text(text, str(path))


def config_to_json(config: TastyguardConfig) -> str:
    """The validated config as JSON (decimals and distances as strings), for Lambdas to read.

    Only what the file sets is written (defaults come back on load), so a policy layer keeps meaning
    "inherit" for every field it does not set.
    """
    return config.model_dump_json(exclude_unset=True)


def config_fingerprint(config: TastyguardConfig, build: str = '') -> str:
    """A short digest of everything the config says (defaults included) and of the code's ``build``: equal for
    the same configuration and code in every process that loaded them, different after any change of either (a
    run verified under another config, or by other code, proves nothing about this one)."""
    digest = hashlib.sha256(config.model_dump_json().encode())
    digest.update(f'\nbuild:{build}'.encode())
    return digest.hexdigest()[:16]


def load_config_json(text: str | bytes, source: str = '<json>') -> TastyguardConfig:
    """Read the JSON written by :func:`config_to_json` (no YAML involved). Raises :class:`ConfigError`."""
    try:
        return TastyguardConfig.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(source, explain(exc)) from None
