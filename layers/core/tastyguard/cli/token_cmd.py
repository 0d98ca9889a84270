"""``tastyguard token reset``: close the re-authorization breaker after storing a new grant."""

from __future__ import annotations

import typer

from tastyguard.cli import options
from tastyguard.cli.choices import EnvironmentChoice

app = options.command_group('The shared access token and its re-authorization breaker.')


@app.command('reset')
def reset(
    environment: EnvironmentChoice = typer.Option(..., '--environment', '-e', help='The broker environment.'),
    grant: str = typer.Option('default', '--grant', '-g', help='The grant (login) that was re-authorized.'),
    store: str | None = options.STORE,
) -> None:
    """Close the token breaker of ENVIRONMENT (and GRANT) and drop the cached access token (after storing a new
    grant)."""
    from tastyguard.cli.errors import guarded  # noqa: PLC0415 - keeps --help fast
    from tastyguard.cli.ops_view import token_reset  # noqa: PLC0415

    guarded(token_reset)(environment.value, store, grant)
