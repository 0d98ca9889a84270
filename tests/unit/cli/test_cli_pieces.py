"""Small pieces of the command line: option checks, store names, words for results, times with their zone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import typer

from tastyguard.cli import exit_codes
from tastyguard.cli.errors import CliError
from tastyguard.cli.options import check_api_url
from tastyguard.cli.render import action_text, short_reason
from tastyguard.cli.stores import EMBEDDED_STORE, StoreKind, choose_store, parse_store
from tastyguard.cli.timezones import Zone
from tastyguard.jobs.results import AccountRunResult, ActionResult, result_words

pytestmark = pytest.mark.unit


@pytest.mark.parametrize('value', ['localhost:33061', '127.0.0.1', 'ftp://127.0.0.1:1', 'http://127.0.0.1:1/v1'])
def test_a_broken_api_url_is_refused_with_the_fix(value: str) -> None:
    with pytest.raises(typer.BadParameter) as raised:
        check_api_url(value)
    assert 'http://' in str(raised.value)


def test_a_good_api_url_passes_without_its_trailing_slash() -> None:
    assert check_api_url('http://127.0.0.1:33061/') == 'http://127.0.0.1:33061'


@pytest.mark.parametrize(
    ('value', 'kind'),
    [('embedded', StoreKind.EMBEDDED), ('http://127.0.0.1:5000', StoreKind.ENDPOINT), ('tastyguard', StoreKind.STACK)],
)
def test_the_three_stores(value: str, kind: StoreKind) -> None:
    assert parse_store(value).kind is kind


def test_a_host_without_a_scheme_is_told_to_add_it() -> None:
    with pytest.raises(CliError) as raised:
        parse_store('127.0.0.1:5000')
    assert raised.value.exit_code == exit_codes.USAGE and 'http://127.0.0.1:5000' in str(raised.value)


def test_no_store_and_no_default_asks_for_one() -> None:
    with pytest.raises(CliError, match='say which store'):
        choose_store(None, default=None)
    assert choose_store(None, default=EMBEDDED_STORE) is EMBEDDED_STORE


def test_every_result_code_has_words() -> None:
    assert result_words('dry_run_ok') == 'dry-run ok'
    assert result_words('would_cancel') == 'would cancel'
    assert result_words('ambiguous') == 'unconfirmed'
    assert result_words('some_new_code') == 'some new code'


def test_a_reason_loses_what_the_other_columns_show() -> None:
    row = ActionResult(
        kind='place', symbol='AAPL', quantity=Decimal(100), stop_trigger=Decimal('160.65'), reason=(
            'AAPL long 100: no stop; placing Sell to Close 100 Stop @ 160.65 (10% below entry 178.5, rounded up to '
            'tick 0.01)'
        ), result='planned',
    )  # fmt: skip
    assert short_reason(row) == 'no stop (10% below entry 178.5, rounded up to tick 0.01)'
    assert action_text(row) == 'place 100 @ 160.65'


def test_a_reason_that_does_not_match_is_kept_whole() -> None:
    row = ActionResult(kind='alert', symbol='AMD', reason='something new happened', result='raised')
    assert short_reason(row) == 'something new happened'


def test_unknown_counts_are_null_in_json() -> None:
    result = AccountRunResult(job='ensure_stops', run_id='r', account='A', mode='live', environment='paper',
                              status='skipped')  # fmt: skip
    payload = result.to_cli_json()
    assert payload['positions'] is None and payload['protected'] is None and payload['money_at_risk'] is None


def test_times_carry_their_zone() -> None:
    moment = datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
    zone = Zone.named('America/New_York')
    assert zone.short(moment) == '2026-07-01 10:30 EDT'
    assert zone.iso(moment) == '2026-07-01T10:30:00-04:00'
    assert zone.name == 'America/New_York'


def test_an_unknown_zone_is_a_usage_error() -> None:
    with pytest.raises(CliError) as raised:
        Zone.named('Mars/Olympus')
    assert raised.value.exit_code == exit_codes.USAGE
