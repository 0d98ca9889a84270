"""A configuration problem, and the error that carries a list of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a configuration file: where, and what to do about it."""

    path: str
    message: str
    line: int | None = None

    def render(self, source: str | None = None) -> str:
        """``tastyguard.yaml:12: accounts[0].mode: 'liev' is not one of observe, shadow, live``."""
        where = f'{source}:{self.line}: ' if source and self.line else (f'{source}: ' if source else '')
        return f'{where}{self.path}: {self.message}' if self.path else f'{where}{self.message}'

    def __str__(self) -> str:
        return self.render()


class ConfigError(ValueError):
    """The configuration could not be loaded; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = '\n'.join(f'  {problem.render(source)}' for problem in self.problems)
        super().__init__(f'{source}: {count} problem{"s" if count != 1 else ""}\n{lines}')
