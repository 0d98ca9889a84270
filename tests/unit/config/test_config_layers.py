"""Which policy value wins: specificity first (symbol > instrument type > default), then account > top level."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from tastyguard.cli.config_cmd import app
from tastyguard.config import PolicyScope, StopKind, StopTimeInForce, TastyguardConfig, account_policy
from tastyguard.config.effective import EffectivePolicy

pytestmark = pytest.mark.unit


def resolve(top: dict[str, Any], own: dict[str, Any], scope: PolicyScope, *keys: str, **extra: Any) -> EffectivePolicy:
    data = {'environment': 'paper', 'accounts': [{'account_number': '5WX01234', 'policy': own, **extra}], 'policy': top}
    config = TastyguardConfig.model_validate(data)
    return account_policy(config, '5WX01234').resolve(scope, keys)


def test_the_account_default_beats_the_top_level_default() -> None:
    policy = resolve({'distance': '10%'}, {'distance': '8%'}, PolicyScope.EQUITY)
    assert (str(policy.distance), policy.sources['distance']) == ('8%', 'accounts[0].policy')


def test_an_instrument_type_entry_beats_an_account_default() -> None:
    policy = resolve(
        {'instrument_types': {'equity_option': {'distance': '40%'}}}, {'distance': '8%'}, PolicyScope.EQUITY_OPTION
    )
    assert (str(policy.distance), policy.sources['distance']) == ('40%', 'policy.instrument_types.equity_option')


def test_a_symbol_override_beats_everything_and_the_exact_symbol_beats_the_underlying() -> None:
    top = {'symbols': {'AAPL': {'distance': '4%'}, 'AAPL  270115C00200000': {'distance': '30%'}}}
    own = {'instrument_types': {'equity_option': {'distance': '60%'}}}
    assert str(resolve(top, own, PolicyScope.EQUITY_OPTION, 'AAPL').distance) == '4%'
    assert str(resolve(top, own, PolicyScope.EQUITY_OPTION, 'AAPL', 'AAPL  270115C00200000').distance) == '30%'


def test_applies_to_limits_a_symbol_override_to_some_types() -> None:
    top = {'symbols': {'SPY': {'distance': '3%', 'applies_to': ['equity']}}}
    assert str(resolve(top, {}, PolicyScope.EQUITY, 'SPY').distance) == '3%'
    assert str(resolve(top, {}, PolicyScope.EQUITY_OPTION, 'SPY').distance) == '50%'


def test_hands_off_wins_over_every_symbol_override() -> None:
    policy = resolve({'symbols': {'GME': {'kind': 'stop'}}}, {}, PolicyScope.EQUITY, 'GME', hands_off=['gme'])
    assert (policy.kind, policy.sources['kind']) == (StopKind.NONE, 'accounts[0].hands_off')


def test_a_general_stop_kind_never_turns_on_orders_for_futures_options_spreads_or_crypto() -> None:
    for scope in (PolicyScope.FUTURE_OPTION, PolicyScope.SPREAD, PolicyScope.CRYPTO):
        assert resolve({'kind': 'stop_limit'}, {'kind': 'stop'}, scope).kind is StopKind.ALERT_ONLY
    assert resolve({'kind': 'none'}, {}, PolicyScope.SPREAD).kind is StopKind.NONE
    explicit = {'instrument_types': {'spread': {'kind': 'stop_limit'}, 'crypto': {'kind': 'stop'}}}
    assert resolve(explicit, {}, PolicyScope.SPREAD).kind is StopKind.STOP_LIMIT
    assert resolve(explicit, {}, PolicyScope.CRYPTO).kind is StopKind.STOP


def test_gtc_ext_applies_to_equities_and_becomes_gtc_with_a_note_elsewhere() -> None:
    assert resolve({'time_in_force': 'GTC Ext'}, {}, PolicyScope.EQUITY).time_in_force is StopTimeInForce.GTC_EXT
    option = resolve({'time_in_force': 'GTC Ext'}, {}, PolicyScope.EQUITY_OPTION)
    assert option.time_in_force is StopTimeInForce.GTC and option.notes == (
        'GTC Ext is for equities only; equity_option stops use GTC',
    )


def test_an_explicit_null_clears_an_inherited_guard_but_null_elsewhere_inherits() -> None:
    policy = resolve(
        {'max_distance': '20%', 'distance': '7%'}, {'max_distance': None, 'distance': None}, PolicyScope.EQUITY
    )
    assert policy.max_distance is None and str(policy.distance) == '7%'


CONFIG = """
environment: sandbox
accounts:
  - account_number: 5WX01234
    nickname: Main
    mode: live
    policy:
      distance: 8%
policy:
  symbols:
    TSLA: {kind: alert_only}
notifications:
  email: [me@example.com]
"""


def test_config_check_prints_a_summary_of_accounts_modes_and_policies(tmp_path: Any) -> None:
    path = tmp_path / 'tastyguard.yaml'
    path.write_text(CONFIG)
    result = CliRunner().invoke(app, ['check', str(path)], env={'COLUMNS': '200'})
    assert result.exit_code == 0, result.output
    assert 'is valid' in result.output and 'sandbox' in result.output
    assert '5WX01234' in result.output and 'live' in result.output and 'Main' in result.output
    assert 'equity_option' in result.output and 'TSLA (equity)' in result.output and '8%' in result.output


def test_config_check_lists_every_problem_and_exits_1(tmp_path: Any) -> None:
    path = tmp_path / 'tastyguard.yaml'
    path.write_text('environment: paperr\naccounts:\n  - account_number: 5WX01234\n    mode: liev\n')
    result = CliRunner().invoke(app, ['check', str(path)], env={'COLUMNS': '200'})
    assert result.exit_code == 1
    assert '2 problems' in result.output
    assert "accounts[0].mode: 'liev' is not one of observe, shadow, live" in result.output
    assert "line 1: environment: 'paperr' is not one of production, sandbox, paper" in result.output


def test_config_check_without_a_file_explains_how_to_start(tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ['check', str(tmp_path / 'tastyguard.yaml')], env={'COLUMNS': '200'})
    assert result.exit_code == 1 and 'tastyguard.example.yaml' in result.output


def test_config_show_prints_the_effective_policy_with_sources_and_json(tmp_path: Any) -> None:
    path = tmp_path / 'tastyguard.yaml'
    path.write_text(CONFIG)
    table = CliRunner().invoke(app, ['show', str(path), '--sources'], env={'COLUMNS': '250'})
    assert table.exit_code == 0 and 'accounts[0].policy' in table.output and 'built-in default' in table.output
    as_json = CliRunner().invoke(app, ['show', str(path), '--json'])
    assert as_json.exit_code == 0 and as_json.output.startswith('{"environment":"sandbox"')
