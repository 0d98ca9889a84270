"""Errors a person can act on, printed as one message without a traceback.

Every command runs inside :func:`guarded`, which turns the known failure types (a bad configuration, missing
AWS settings, an unreachable endpoint, a refused request, a broker error, a busy port) into ``error: ...`` on
stderr and exit status 1, naming what to set or run. Imports of boto and the broker client happen only while an
error is being explained, so declaring commands stays cheap.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import typer

from tastyguard.cli import exit_codes

P = ParamSpec('P')
R = TypeVar('R')

OPERATOR_PERMISSIONS = 'docs/deploy.md#what-an-operator-needs'


class CliError(Exception):
    """A problem the user can fix; ``exit_code`` 1 (could not do it) or 2 (a wrong name on the command line)."""

    def __init__(self, message: str, *, exit_code: int = exit_codes.ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StoreContext:
    """What the open store is, for messages about AWS errors (set while a store session is open)."""

    label: str | None = None
    missing_tables_hint: str | None = None


def _aws_message(error: Exception) -> str | None:
    """A message for a boto/botocore failure, or None when ``error`` is not one."""
    try:
        from botocore import exceptions as aws  # noqa: PLC0415 - only when explaining an error
    except ImportError:  # pragma: no cover - botocore is a runtime dependency
        return None
    where = f' ({StoreContext.label})' if StoreContext.label else ''
    if isinstance(error, aws.NoRegionError):
        return (
            f'no AWS region{where}: set AWS_REGION (or AWS_DEFAULT_REGION, or region in your AWS profile) to the '
            'region the tastyguard stack is deployed in'
        )
    if isinstance(error, aws.NoCredentialsError | aws.PartialCredentialsError):
        return (
            f'no AWS credentials{where}: set AWS_PROFILE to a profile of the account the stack is deployed in '
            '(aws configure, or aws sso login --profile <name>)'
        )
    if isinstance(error, aws.EndpointConnectionError | aws.ConnectTimeoutError | aws.ReadTimeoutError):
        url = getattr(error, 'kwargs', {}).get('endpoint_url', '')
        return f'cannot reach the AWS endpoint {url}{where}: {error}. Check --store and your network.'
    if isinstance(error, aws.ClientError):
        code = error.response.get('Error', {}).get('Code', '')
        message = error.response.get('Error', {}).get('Message', '')
        operation = getattr(error, 'operation_name', '')
        if code == 'ResourceNotFoundException' and StoreContext.missing_tables_hint:
            return f'{message or code}{where}: {StoreContext.missing_tables_hint}'
        if code in ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation') or 'KMS' in code:
            return (
                f'AWS refused {operation}{where}: {message or code}. The permissions an operator needs are listed '
                f'in {OPERATOR_PERMISSIONS}.'
            )
        if code in ('UnrecognizedClientException', 'InvalidClientTokenId', 'ExpiredToken', 'ExpiredTokenException'):
            return (
                f'AWS did not accept your credentials{where} ({code}): log in again (aws sso login) or check '
                'AWS_PROFILE'
            )
        return f'AWS answered {code or "an error"} to {operation}{where}: {message}'
    if isinstance(error, aws.BotoCoreError):
        return f'AWS call failed{where}: {error}'
    return None


def explain(error: Exception) -> str | None:
    """The message for a failure the user can act on, or None for a bug (which keeps its traceback)."""
    if isinstance(error, CliError):
        return str(error)
    from tastyguard.broker.errors import BrokerError  # noqa: PLC0415
    from tastyguard.config.problems import ConfigError  # noqa: PLC0415

    if isinstance(error, BrokerError):
        return str(error)
    if isinstance(error, ConfigError):
        return f'{error}\nRun `./tastyguard config check {error.source}` for details.'
    return _aws_message(error)


def fail(message: str, exit_code: int = exit_codes.ERROR) -> typer.Exit:
    """Print ``message`` for a person and return the exit to raise."""
    typer.secho(f'error: {message}', fg=typer.colors.RED, err=True)
    return typer.Exit(exit_code)


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` and turn an explainable failure into one message and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            message = explain(error)
            if message is None:
                raise
            code = error.exit_code if isinstance(error, CliError) else exit_codes.ERROR
            raise fail(message, code) from None

    return wrapper


def echo_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout."""
    import json  # noqa: PLC0415

    sys.stdout.write(json.dumps(payload, indent=2, default=str) + '\n')
    sys.stdout.flush()
