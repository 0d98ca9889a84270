"""Every configuration error names the field as YAML writes it, what was given and what is allowed."""

from __future__ import annotations

import pytest

from tastyguard.config import ConfigError, parse_config_text

pytestmark = pytest.mark.unit
HEAD = 'environment: paper\naccounts:\n  - account_number: 5WX01234\n'


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text, 'tastyguard.yaml')
    return [str(problem) for problem in caught.value.problems]


def test_a_misspelt_mode_lists_the_allowed_values() -> None:
    text = 'environment: paper\naccounts:\n  - account_number: 5WX01234\n    mode: liev\n'
    assert problems(text) == ["accounts[0].mode: 'liev' is not one of observe, shadow, live"]


def test_errors_carry_the_line_of_the_field() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text('environment: paper\naccounts:\n  - account_number: 5WX01234\n    mode: liev\n', 'x.yaml')
    assert (
        caught.value.problems[0].render('x.yaml')
        == "x.yaml:4: accounts[0].mode: 'liev' is not one of observe, shadow, live"
    )


def test_a_missing_environment_is_required_and_lists_the_choices() -> None:
    assert problems('accounts:\n  - account_number: 5WX01234\n') == [
        'environment: is required; allowed: production, sandbox, paper'
    ]


def test_an_unknown_setting_suggests_the_closest_one() -> None:
    (problem,) = problems(HEAD + 'policy:\n  distnace: 5%\n')
    assert problem.startswith("policy.distnace: unknown setting 'distnace' (did you mean 'distance'?); allowed here:")


def test_an_unknown_instrument_type_lists_the_types() -> None:
    assert problems(HEAD + 'policy:\n  instrument_types:\n    equty: {distance: 3%}\n') == [
        "policy.instrument_types.equty: unknown key 'equty'; allowed: equity, equity_option, future, "
        'future_option, crypto, spread'
    ]


@pytest.mark.parametrize(
    ('value', 'message'),
    [
        ("'abc'", "'abc' is not a distance; use a percentage like '10%', an amount like 2.50"),
        ('100%', '100% must be below 100%'),
        ('0', '0 must be greater than 0'),
        ('-5', '-5 is negative; a distance is always written as a positive number'),
    ],
)
def test_bad_distances_are_explained(value: str, message: str) -> None:
    (problem,) = problems(HEAD + f'policy:\n  distance: {value}\n')
    assert problem.startswith('policy.distance: ') and message in problem


def test_a_min_distance_above_the_max_distance_is_an_error() -> None:
    assert problems(HEAD + 'policy:\n  min_distance: 5%\n  max_distance: 2%\n') == [
        'policy: min_distance 5% is larger than max_distance 2%'
    ]


def test_a_credit_multiple_of_one_or_less_is_an_error() -> None:
    (problem,) = problems(HEAD + 'policy:\n  credit_multiple: 1\n')
    assert problem.startswith('policy.credit_multiple: 1 must be greater than 1')


def test_a_stop_on_futures_options_is_rejected_because_the_broker_takes_none() -> None:
    (problem,) = problems(HEAD + 'policy:\n  instrument_types:\n    future_option: {kind: stop}\n')
    assert (
        "future_option: kind 'stop' is not available for future_option (tastytrade allows: alert_only, none)" in problem
    )


def test_a_stop_market_on_spreads_is_rejected() -> None:
    (problem,) = problems(HEAD + 'policy:\n  instrument_types:\n    spread: {kind: stop}\n')
    assert "kind 'stop' is not available for spread" in problem


def test_a_closing_limit_on_a_spreads_software_stop_is_rejected_with_what_to_use_instead() -> None:
    (problem,) = problems(HEAD + 'policy:\n  instrument_types:\n    spread: {on_software_trigger: close_limit}\n')
    assert "on_software_trigger 'close_limit' is not available for spread" in problem
    assert 'kind: stop_limit' in problem


def test_gtc_ext_on_options_is_rejected_when_written_for_options() -> None:
    (problem,) = problems(HEAD + "policy:\n  instrument_types:\n    equity_option: {time_in_force: 'GTC Ext'}\n")
    assert "time_in_force 'GTC Ext' is for equities only" in problem


def test_a_slack_webhook_url_in_the_file_is_refused_as_a_secret() -> None:
    (problem,) = problems(HEAD + 'notifications:\n  slack:\n    webhook_url: https://hooks.slack.com/x\n')
    assert 'secret' in problem and 'Secrets Manager' in problem


def test_a_bad_account_number_and_a_duplicate_account_are_explained() -> None:
    assert problems('environment: paper\naccounts:\n  - account_number: "5WX0*"\n') == [
        "accounts[0].account_number: '5WX0*' is not a tastytrade account number (letters and digits, e.g. 5WX01234)"
    ]
    assert problems(HEAD + '  - account_number: 5wx01234\n') == ['accounts: account 5WX01234 is listed twice']


def test_no_accounts_is_explained() -> None:
    assert problems('environment: paper\naccounts: []\n') == ['accounts: at least one account is required']


def test_bad_schedule_values_are_explained() -> None:
    found = problems(HEAD + "schedules:\n  timezone: Mars/Base\n  digest_time: '25:30'\n  ensure_stops_minutes: 0\n")
    assert "schedules.timezone: unknown time zone 'Mars/Base'; use an IANA name like 'America/New_York'" in found
    assert "schedules.digest_time: '25:30' is not a time of day; write it as 'HH:MM', e.g. '16:30'" in found
    assert 'schedules.ensure_stops_minutes: 0: input should be greater than or equal to 1' in found


def test_a_wrong_type_is_named_in_words() -> None:
    assert problems(HEAD + 'safety:\n  kill_switch: maybe\n') == ["safety.kill_switch: 'maybe' is not true or false"]
    assert problems(HEAD + 'accounts_x: 1\n')[0].startswith("accounts_x: unknown setting 'accounts_x'")


def test_every_problem_is_reported_at_once() -> None:
    text = 'environment: paperr\nmode: liev\naccounts:\n  - account_number: 5WX01234\n    enabled: perhaps\n'
    assert len(problems(text)) == 3
