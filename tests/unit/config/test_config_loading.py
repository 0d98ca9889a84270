"""Loading tastyguard.yaml: the example validates, defaults, strict YAML, JSON round trip for Lambdas."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tastyguard.config import (
    ConfigError,
    Environment,
    Mode,
    PolicyScope,
    StopKind,
    TastyguardConfig,
    account_policy,
    config_to_json,
    load_config,
    load_config_json,
    parse_config_text,
)
from tastyguard.config.policy import POLICY_FIELDS

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]
MINIMAL = 'environment: paper\naccounts:\n  - account_number: 5WX01234\n'


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, 'tastyguard.yaml')
    return [problem.render('tastyguard.yaml') for problem in caught.value.problems]


def test_the_example_file_validates_and_uses_every_top_level_section() -> None:
    config = load_config(ROOT / 'tastyguard.example.yaml')
    assert config.environment is Environment.PRODUCTION and config.mode is Mode.SHADOW
    assert set(TastyguardConfig.model_fields) <= set(config.model_fields_set)
    assert [a.account_number for a in config.accounts] == ['5WX01234', '5WX05678']


def test_the_example_mentions_every_policy_option() -> None:
    text = (ROOT / 'tastyguard.example.yaml').read_text()
    assert [name for name in (*POLICY_FIELDS, 'applies_to', 'instrument_types', 'symbols') if name not in text] == []


def test_a_minimal_file_gets_the_safe_defaults() -> None:
    config = parse_config_text(MINIMAL)
    assert config.mode is Mode.SHADOW
    assert config.safety.kill_switch is False and config.schedules.timezone == 'America/New_York'
    policy = account_policy(config, '5WX01234').resolve(PolicyScope.EQUITY)
    assert (policy.kind, str(policy.distance), policy.basis, policy.when_breached) == (
        StopKind.STOP,
        '10%',
        'entry',
        'alert',
    )
    assert str(account_policy(config, '5WX01234').resolve(PolicyScope.EQUITY_OPTION).distance) == '50%'


def test_numbers_are_decimals_never_floats() -> None:
    config = parse_config_text(MINIMAL + 'policy:\n  credit_multiple: 2.5\n  distance: 0.10\n')
    assert config.policy.credit_multiple == Decimal('2.5') and isinstance(config.policy.credit_multiple, Decimal)
    assert config.policy.distance is not None and config.policy.distance.value == Decimal('0.10')


def test_tickers_like_on_and_no_stay_tickers() -> None:
    config = parse_config_text(MINIMAL + 'hands_off: [ON, NO, yes, off]\n')
    assert config.hands_off == ('ON', 'NO', 'YES', 'OFF')


def test_an_unquoted_time_is_read_as_a_time_not_a_base_60_number() -> None:
    config = parse_config_text(MINIMAL + 'schedules:\n  digest_time: 16:30\n')
    assert config.schedules.digest_time.isoformat() == '16:30:00'


def test_a_key_written_twice_is_an_error_with_its_line() -> None:
    assert _problems('environment: paper\nmode: live\nmode: shadow\n') == [
        "tastyguard.yaml:3: YAML syntax: 'mode' is written twice in the same mapping"
    ]


def test_a_yaml_syntax_error_names_the_line() -> None:
    (problem,) = _problems('environment: [paper\naccounts: []\n')
    assert problem.startswith('tastyguard.yaml:') and 'YAML syntax' in problem


def test_an_empty_file_is_explained() -> None:
    assert _problems('') == ['tastyguard.yaml: the file is empty; start from tastyguard.example.yaml']


def test_a_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r'copy tastyguard\.example\.yaml'):
        load_config(tmp_path / 'tastyguard.yaml')


def test_the_json_dump_round_trips_without_yaml_and_keeps_inherit_semantics() -> None:
    config = parse_config_text(
        MINIMAL.replace(
            '  - account_number: 5WX01234\n', '  - account_number: 5WX01234\n    policy: {max_distance: null}\n'
        )
        + 'policy:\n  max_distance: 20%\n  distance: 7%\n'
    )
    dumped = config_to_json(config)
    assert json.loads(dumped)['policy'] == {'max_distance': '20%', 'distance': '7%'}
    again = load_config_json(dumped)
    assert again == config
    for scope in PolicyScope:
        assert account_policy(again, '5WX01234').resolve(scope) == account_policy(config, '5WX01234').resolve(scope)
    assert account_policy(again, '5WX01234').resolve(PolicyScope.EQUITY).max_distance is None


def test_the_loader_does_not_read_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('TASTYGUARD_MODE', 'live')
    monkeypatch.setenv('MODE', 'live')
    assert parse_config_text(MINIMAL).mode is Mode.SHADOW
    assert _problems(MINIMAL + "mode: '${MODE}'\n") == [
        "tastyguard.yaml:4: mode: '${MODE}' is not one of observe, shadow, live"
    ]
