"""The work of ``config check`` and ``config show``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tastyguard.cli import exit_codes
from tastyguard.cli.errors import echo_json
from tastyguard.cli.runtime import select_account
from tastyguard.config import (
    ConfigError,
    Environment,
    Mode,
    PolicyScope,
    TastyguardConfig,
    account_policy,
    config_to_json,
    load_config,
)
from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.problems import Problem

EXAMPLE = Path(__file__).resolve().parents[4] / 'tastyguard.example.yaml'
"""The commented example in the clone (its made-up accounts must never be deployed)."""

_COLUMNS = (
    ('kind', 'kind'),
    ('distance', 'distance'),
    ('basis', 'basis'),
    ('credit_multiple', 'short opt x'),
    ('min_distance', 'min'),
    ('max_distance', 'max'),
    ('when_breached', 'breached'),
    ('limit_offset', 'limit off.'),
    ('time_in_force', 'TIF'),
    ('on_human_cancel', 'human cancel'),
)


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _cell(policy: EffectivePolicy, field: str, sources: bool) -> str:
    value = policy.describe()[field]
    if sources:
        return f'{value}\n[dim]{policy.sources.get(field, "built-in default")}[/]'
    return value


def policy_table(config: TastyguardConfig, account: str | None = None, sources: bool = False) -> Table:
    """The effective policy per account and instrument type (symbol overrides listed after)."""
    table = Table(title='Effective stop policy', show_lines=sources)
    table.add_column('account')
    table.add_column('applies to')
    for _, title in _COLUMNS:
        table.add_column(title)
    for entry in config.accounts:
        if account and entry.account_number != account:
            continue
        book = account_policy(config, entry)
        rows: list[tuple[str, EffectivePolicy]] = [(str(scope), book.resolve(scope)) for scope in PolicyScope]
        for symbol in sorted(book.symbols):
            for scope in (PolicyScope.EQUITY, PolicyScope.EQUITY_OPTION, PolicyScope.FUTURE):
                overridden = book.resolve(scope, (symbol,))
                if overridden != book.resolve(scope):
                    rows.append((f'{symbol} ({scope})', overridden))
        rows += [(f'{symbol} (hands-off)', book.resolve(PolicyScope.EQUITY, (symbol,))) for symbol in book.hands_off]
        for label, policy in rows:
            table.add_row(entry.account_number, label, *(_cell(policy, field, sources) for field, _ in _COLUMNS))
    return table


def _accounts_table(config: TastyguardConfig) -> Table:
    table = Table(title='Accounts')
    for column in ('account', 'nickname', 'mode', 'enabled', 'hands-off symbols'):
        table.add_column(column)
    for account in config.accounts:
        mode = config.mode_for(account)
        style = {Mode.LIVE: 'bold red', Mode.SHADOW: 'yellow', Mode.OBSERVE: 'cyan'}[mode]
        hands_off = ', '.join(sorted({*config.hands_off, *account.hands_off})) or '-'
        enabled = 'yes' if account.enabled else '[dim]no (skipped)[/]'
        table.add_row(account.account_number, account.nickname or '-', f'[{style}]{mode}[/]', enabled, hands_off)
    return table


def notes(config: TastyguardConfig) -> list[str]:
    """Things worth knowing about a valid configuration."""
    found: list[str] = []
    live = [a.account_number for a in config.accounts if a.enabled and config.mode_for(a) is Mode.LIVE]
    if live and config.environment is Environment.PRODUCTION:
        found.append(f'LIVE on production for {", ".join(live)}: orders will be submitted.')
    if config.safety.kill_switch:
        found.append('kill switch is on: no order writes at all (existing stops stay).')
    if not config.notifications.email and not config.notifications.slack.enabled:
        found.append('no email address and Slack is off: alerts will reach nobody.')
    return found


def _example_accounts() -> set[str]:
    try:
        return {entry.account_number for entry in load_config(EXAMPLE).accounts}
    except (OSError, ConfigError):
        return set()


def deploy_problems(path: Path, config: TastyguardConfig) -> list[str]:
    """Why this configuration must not be deployed (empty: it may)."""
    found: list[str] = []
    if EXAMPLE.exists() and path.resolve() == EXAMPLE:
        found.append(f'{path.name} is the commented example: copy it to tastyguard.yaml and edit it')
    made_up = sorted({a.account_number for a in config.accounts} & _example_accounts())
    if made_up:
        found.append(f"accounts {', '.join(made_up)} are the example's made-up numbers: put your own account numbers")
    if config.environment is Environment.PAPER:
        found.append(
            'environment: paper cannot be deployed (Lambda cannot reach a paper broker on your machine): use sandbox '
            'to try the deployed stack, then production'
        )
    if not config.notifications.email and not config.notifications.slack.enabled:
        found.append('no notifications.email and Slack is off: a deployed tastyguard would tell nobody')
    return found


def _config_json(config: TastyguardConfig) -> dict[str, Any]:
    return {
        'environment': config.environment.value,
        'mode': config.mode.value,
        'accounts': [
            {
                'account_number': a.account_number,
                'nickname': a.nickname,
                'mode': config.mode_for(a).value,
                'enabled': a.enabled,
                'hands_off': sorted({*config.hands_off, *a.hands_off}),
            }
            for a in config.accounts
        ],
    }


def _problem_json(problem: Problem) -> dict[str, Any]:
    return {'line': problem.line, 'path': problem.path or None, 'message': problem.message}


def check(path: Path, *, deploy: bool, quiet: bool, as_json: bool) -> int:
    """Validate (and, with ``deploy``, vet for deploying); print and return the exit code."""
    console = _console()
    if not path.exists():
        message = (
            f'No configuration at {path}. Copy tastyguard.example.yaml to tastyguard.yaml, edit it (every option '
            'is explained there), then run ./tastyguard config check again.'
        )
        if as_json:
            echo_json({'command': 'config check', 'path': str(path), 'valid': False, 'problems': [
                {'line': None, 'path': None, 'message': message}], 'deploy_problems': None})  # fmt: skip
        else:
            console.print(f'[bold red]{escape(message)}[/]')
        return exit_codes.ERROR
    try:
        config = load_config(path)
    except ConfigError as exc:
        if as_json:
            echo_json(
                {
                    'command': 'config check',
                    'path': str(path),
                    'valid': False,
                    'problems': [_problem_json(p) for p in exc.problems],
                    'deploy_problems': None,
                }
            )
            return exit_codes.ERROR
        count = len(exc.problems)
        console.print(f'[bold red]{escape(str(path))}: {count} problem{"s" if count != 1 else ""}[/]')
        for problem in exc.problems:
            where = f'line {problem.line}: ' if problem.line else ''
            field = f'[bold]{escape(problem.path)}[/]: ' if problem.path else ''
            console.print(f'  {where}{field}{escape(problem.message)}')
        return exit_codes.ERROR
    refusals = deploy_problems(path, config) if deploy else []
    if as_json:
        echo_json(
            {
                'command': 'config check',
                'path': str(path),
                'valid': True,
                'problems': [],
                'deploy_problems': refusals if deploy else None,
                **_config_json(config),
                'notes': notes(config),
            }
        )
        return exit_codes.ERROR if refusals else exit_codes.OK
    for refusal in refusals:
        console.print(f'[bold red]not deployable:[/] {escape(refusal)}')
    if refusals:
        return exit_codes.ERROR
    console.print(
        f'[bold green]{escape(str(path))} is valid{" and deployable" if deploy else ""}.[/] environment: '
        f'[bold]{config.environment}[/], default mode: [bold]{config.mode}[/]'
    )
    if not quiet:
        console.print(_accounts_table(config))
        console.print(policy_table(config))
    for note in notes(config):
        console.print(f'note: {escape(note)}')
    return exit_codes.OK


def show(path: Path, *, account: str | None, sources: bool, as_json: bool) -> None:
    """Print the effective stop policy (or the validated config as JSON)."""
    from tastyguard.cli.runtime import load_config_file  # noqa: PLC0415

    config = load_config_file(path, explicit=True)
    assert config is not None
    wanted = select_account(config, account)
    if as_json:
        import sys  # noqa: PLC0415

        sys.stdout.write(config_to_json(config) + '\n')
        return
    _console().print(policy_table(config, wanted, sources))
