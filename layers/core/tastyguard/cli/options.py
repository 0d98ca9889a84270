"""Options shared by several commands. Declaring them imports only typer and the standard library."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import typer

STORE_HELP = (
    "Where tastyguard's state is: 'embedded' (in-process, nothing kept), a local AWS endpoint URL "
    "(http://127.0.0.1:5000, moto_server or DynamoDB Local), or the deployed stack by name ('tastyguard', in the "
    'AWS account and region of your AWS profile). Default: $TASTYGUARD_STORE, else embedded for paper runs.'
)


def check_api_url(value: str | None) -> str | None:
    """``--api-url`` must be an absolute http(s) URL; say how to write it when it is not."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        hint = f' (did you mean http://{value}?)' if '://' not in value else ''
        raise typer.BadParameter(
            f'{value!r} is not an http:// or https:// URL{hint}; use the api_url that `./tastyguard paper serve` '
            'printed, e.g. http://127.0.0.1:33061'
        )
    if parts.path.rstrip('/'):
        raise typer.BadParameter(
            f'{value!r} has a path ({parts.path}); the api_url is only scheme, host and port, '
            f'e.g. {parts.scheme}://{parts.netloc}'
        )
    return value.rstrip('/')


CONFIG = typer.Option(
    None, '--config', '-c', help='The configuration file (default: tastyguard.yaml).', show_default=False
)
ACCOUNT = typer.Option(None, '--account', '-a', help='Only this account (default: every enabled account).')
API_URL = typer.Option(
    None,
    '--api-url',
    help="A paper broker's REST URL (the api_url `./tastyguard paper serve` printed); also $TASTYGUARD_API_URL.",
    callback=check_api_url,
)
STREAMER_URL = typer.Option(None, '--streamer-url', help='Its account-streamer URL (derived from --api-url).')
SECRET = typer.Option(
    None,
    '--secret',
    help="Secrets Manager secret with the broker credentials, in the store's AWS (default: the environment "
    'variables TASTYTRADE_CLIENT_SECRET / TASTYTRADE_REFRESH_TOKEN, else tastyguard/broker for --store tastyguard).',
)
STORE = typer.Option(None, '--store', '-s', help=STORE_HELP, envvar='TASTYGUARD_STORE', show_envvar=False)
AS_JSON = typer.Option(False, '--json', help='Print one JSON object (the documented shape) instead of tables.')
TIMEZONE = typer.Option(
    None, '--tz', help="Show times in this zone (e.g. America/New_York; default: this machine's zone)."
)


def config_path(value: Path | None) -> tuple[Path, bool]:
    """The configuration path and whether it was named explicitly."""
    return (value, True) if value is not None else (Path('tastyguard.yaml'), False)


def command_group(help_text: str) -> typer.Typer:
    """A sub-command group (``config``, ``paper``, ...): plain help text, so ``--help`` never imports rich."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)
