"""From tastyguard.yaml to the stack's settings: which file, which values, what a bad file does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import cadence
from infra import constants as c
from infra.settings import (
    StreamerCapacity,
    StreamerHours,
    StreamerSettings,
    context_flag,
    load_settings,
    resolve_config_path,
)
from tastyguard.config import ConfigError, load_config_json

pytestmark = pytest.mark.infra

CONFIG_YAML = """\
environment: sandbox
mode: observe
accounts:
  - account_number: 5WX01234
notifications:
  email: [me@example.com]
  slack: {enabled: true, webhook_secret_name: team/slack}
  digest: false
schedules:
  timezone: Europe/London
  market_hours_only: false
  ensure_stops_minutes: 2
  digest_time: '17:45'
"""


def context(values: dict[str, object]) -> Callable[[str], object]:
    return values.get


def test_an_explicit_config_path_is_used_relative_to_the_project(tmp_path: Path) -> None:
    assert resolve_config_path('prod.yaml', tmp_path) == tmp_path / 'prod.yaml'
    assert resolve_config_path('/etc/tg.yaml', tmp_path) == Path('/etc/tg.yaml')


def test_tastyguard_yaml_is_the_default(tmp_path: Path) -> None:
    (tmp_path / c.DEFAULT_CONFIG_FILE).write_text(CONFIG_YAML)
    assert resolve_config_path(None, tmp_path) == tmp_path / c.DEFAULT_CONFIG_FILE


def test_without_a_configuration_nothing_is_synthesized(tmp_path: Path) -> None:
    # A fresh clone has only the example (production, made-up accounts): it must never be deployed by accident
    with pytest.raises(ConfigError) as raised:
        resolve_config_path(None, tmp_path)
    assert 'does not exist' in str(raised.value) and f'-c config={c.EXAMPLE_CONFIG_FILE}' in str(raised.value)


def test_the_example_config_synthesizes_on_a_fresh_clone() -> None:
    # Given the commented example, named explicitly
    settings = load_settings(context({'config': c.EXAMPLE_CONFIG_FILE}))
    # Then every job period can be scheduled
    for job in c.JOBS:
        period = settings.period_minutes(job)
        if period is not None:
            cadence.periodic_cron(period, market_hours_only=settings.market_hours_only)


def test_settings_carry_what_the_stack_needs(tmp_path: Path) -> None:
    # Given a config file named in the context
    (tmp_path / 'tg.yaml').write_text(CONFIG_YAML)
    # When it is loaded
    settings = load_settings(context({'config': 'tg.yaml', 'reserved_concurrency': 'false'}), tmp_path)
    # Then the stack sees its values
    assert settings.model_dump(exclude={'config_json'}) == {
        'config_source': 'tg.yaml',
        'environment': 'sandbox',
        'mode': 'observe',
        'emails': ('me@example.com',),
        'slack_enabled': True,
        'slack_secret_name': 'team/slack',
        'digest_enabled': False,
        'timezone': 'Europe/London',
        'market_hours_only': False,
        'sync_positions_minutes': 5,
        'ensure_stops_minutes': 2,
        'reconcile_orders_minutes': 15,
        'digest_time': time(17, 45),
        'grants': (
            {'name': 'default', 'secret_name': 'tastyguard/broker', 'token_secret_name': 'tastyguard/access-token'},
        ),
        'concurrency': 5,
        'reserved_concurrency': False,
        'snap_start': False,
        'streamer': {
            'enabled': True,
            'capacity': 'on_demand',
            'hours': 'always',
            'cpu': 256,
            'memory': 512,
            'container_insights': True,
        },
    }
    assert [settings.period_minutes(job) for job in c.JOBS] == [5, 2, 15, None]
    assert settings.scheduled_jobs == ('ensure_stops', 'reconcile_orders')  # no digest; sync rides on ensure_stops
    # And the bundled JSON is the same config, readable without YAML
    assert load_config_json(settings.config_json).schedules.ensure_stops_minutes == 2


def test_a_missing_explicit_config_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='no such file'):
        load_settings(context({'config': 'missing.yaml'}), tmp_path)


def test_an_invalid_config_names_the_field(tmp_path: Path) -> None:
    (tmp_path / 'tg.yaml').write_text(CONFIG_YAML.replace('observe', 'reckless'))
    with pytest.raises(ConfigError, match='mode'):
        load_settings(context({'config': 'tg.yaml'}), tmp_path)


@pytest.mark.parametrize(
    ('value', 'expected'), [(None, True), (True, True), (False, False), ('false', False), ('0', False), ('yes', True)]
)
def test_context_flags_accept_cli_strings(value: object, expected: bool) -> None:
    assert context_flag(value, default=True) is expected


# -- the streamer's deployment settings (cdk context) ------------------------------------------------------------


def test_the_streamer_defaults_are_one_on_demand_quarter_vcpu_task_all_day() -> None:
    settings = StreamerSettings.from_context(context({}))
    assert settings == StreamerSettings(
        enabled=True, capacity='on_demand', hours='always', cpu=256, memory=512, container_insights=True
    )


def test_streamer_settings_come_from_cli_strings_or_cdk_json_values() -> None:
    # -c streamer.capacity=SPOT arrives as a string; cdk.json holds real JSON types
    cli = {'streamer.capacity': 'SPOT', 'streamer.hours': 'market', 'streamer.enabled': 'yes', 'streamer.cpu': '512'}
    json_typed = {'streamer.container_insights': False, 'streamer.memory': 1024, 'streamer.cpu': 512}
    settings = StreamerSettings.from_context(context({**cli, **json_typed}))
    assert (settings.capacity, settings.hours, settings.enabled) == (StreamerCapacity.SPOT, StreamerHours.MARKET, True)
    assert (settings.cpu, settings.memory, settings.container_insights) == (512, 1024, False)


def test_every_bad_streamer_setting_is_named_with_what_is_allowed() -> None:
    values = {'streamer.capacity': 'cheap', 'streamer.enabled': 'flase', 'streamer.cpu': '0.25', 'streamer.hourz': 'x'}
    with pytest.raises(ConfigError) as raised:
        StreamerSettings.from_context(context(values), keys=values)
    message = str(raised.value)
    assert message.startswith('cdk context: 4 problems')
    assert "streamer.capacity: 'cheap' is not one of on_demand, spot" in message
    assert "streamer.enabled: 'flase' is not true or false" in message
    assert "streamer.cpu: '0.25' is not a whole number" in message
    assert 'streamer.hourz: is not a streamer setting; the settings are streamer.enabled, streamer.capacity' in message


def test_a_misspelt_key_does_not_hide_a_bad_size() -> None:
    values = {'streamer.capcity': 'spot', 'streamer.cpu': '300'}
    with pytest.raises(ConfigError) as raised:
        StreamerSettings.from_context(context(values), keys=values)
    assert raised.value.problems[0].path == 'streamer.capcity'
    assert 'streamer.cpu=300 is not a Fargate size' in raised.value.problems[1].message


def test_a_size_fargate_does_not_offer_is_refused_with_the_sizes_it_does() -> None:
    with pytest.raises(
        ConfigError, match=r'streamer\.memory=4096 does not go with streamer\.cpu=256: .* 512, 1024, 2048'
    ):
        StreamerSettings.from_context(context({'streamer.memory': '4096'}))
    with pytest.raises(ConfigError, match=r'streamer\.cpu=300 is not a Fargate size .* 256 \(0\.25 vCPU\)'):
        StreamerSettings.from_context(context({'streamer.cpu': 300}))


@given(cpu=st.sampled_from([128, 256, 300, 512, 1024, 2048]), memory=st.integers(min_value=256, max_value=9000))
def test_exactly_the_fargate_cpu_and_memory_pairs_validate(cpu: int, memory: int) -> None:
    valid = memory in c.FARGATE_SIZES.get(cpu, ())
    try:
        StreamerSettings(cpu=cpu, memory=memory)
    except ValueError:
        assert not valid
    else:
        assert valid


def test_load_settings_reads_the_streamer_keys_and_refuses_unknown_ones(tmp_path: Path) -> None:
    (tmp_path / 'tg.yaml').write_text(CONFIG_YAML)
    values = {'config': 'tg.yaml', 'streamer.hours': 'market', '@aws-cdk/core:newStyleStackSynthesis': True}
    settings = load_settings(context(values), tmp_path, context_keys=values)
    assert settings.streamer.hours is StreamerHours.MARKET
    with pytest.raises(ConfigError, match=r'streamer\.capcity'):
        load_settings(
            context({**values, 'streamer.capcity': 'spot'}), tmp_path, context_keys={**values, 'streamer.capcity': 1}
        )
