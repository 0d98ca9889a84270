"""``tastyguard config ...``: check and explain the configuration file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from tastyguard.config import (
    DEFAULT_PATH,
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

app = typer.Typer(help='Check the tastyguard.yaml configuration.', no_args_is_help=True)

_PATH = typer.Argument(DEFAULT_PATH, help='The configuration file.', show_default=True)
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


def _load(path: Path, console: Console) -> TastyguardConfig:
    """The validated config, or every problem printed and exit code 1."""
    if not path.exists():
        console.print(f'[bold red]No configuration at {path}.[/]')
        console.print(
            'Copy [bold]tastyguard.example.yaml[/] to [bold]tastyguard.yaml[/], edit it (every option is explained '
            'there), then run [bold]tastyguard config check[/] again.'
        )
        raise typer.Exit(1)
    try:
        return load_config(path)
    except ConfigError as exc:
        count = len(exc.problems)
        console.print(f'[bold red]{path}: {count} problem{"s" if count != 1 else ""}[/]')
        for problem in exc.problems:
            where = f'line {problem.line}: ' if problem.line else ''
            field = f'[bold]{problem.path}[/]: ' if problem.path else ''
            console.print(f'  {where}{field}{problem.message}', markup=True)
        raise typer.Exit(1) from None


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
        if account and entry.account_number != account.strip().upper():
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


def _notes(config: TastyguardConfig) -> list[str]:
    notes: list[str] = []
    live = [a.account_number for a in config.accounts if a.enabled and config.mode_for(a) is Mode.LIVE]
    if live and config.environment is Environment.PRODUCTION:
        notes.append(f'[bold red]LIVE on production[/] for {", ".join(live)}: orders will be submitted.')
    if config.safety.kill_switch:
        notes.append('[bold]kill switch is on[/]: no order writes at all (existing stops stay).')
    if not config.notifications.email and not config.notifications.slack.enabled:
        notes.append('no email address and Slack is off: alerts will reach nobody.')
    return notes


@app.command('check')
def check(path: Path = _PATH) -> None:
    """Validate the configuration and summarise it; every problem is listed with its field and allowed values."""
    console = _console()
    config = _load(path, console)
    console.print(
        f'[bold green]{path} is valid.[/] environment: [bold]{config.environment}[/], default mode: '
        f'[bold]{config.mode}[/]'
    )
    console.print(_accounts_table(config))
    console.print(policy_table(config))
    for note in _notes(config):
        console.print(f'note: {note}')


@app.command('show')
def show(
    path: Path = _PATH,
    account: str | None = typer.Option(None, '--account', '-a', help='Only this account.'),
    sources: bool = typer.Option(False, '--sources', help='Show which layer set each value.'),
    as_json: bool = typer.Option(False, '--json', help='Print the validated config as JSON (what Lambdas read).'),
) -> None:
    """Print the effective stop policy per account and instrument type."""
    console = _console()
    config = _load(path, console)
    if as_json:
        typer.echo(config_to_json(config))
        return
    console.print(policy_table(config, account, sources))
