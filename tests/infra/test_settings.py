"""From tastyguard.yaml to the stack's settings: which file, which values, what a bad file does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from pathlib import Path

import pytest

from infra import cadence
from infra import constants as c
from infra.settings import context_flag, load_settings, resolve_config_path
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
        'reserved_concurrency': False,
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
