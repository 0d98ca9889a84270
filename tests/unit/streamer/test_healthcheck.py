"""The container health check: a fresh heartbeat file is healthy, anything else is not and says why."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streamer import healthcheck
from streamer.healthcheck import SettingError, Settings, check

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
NOW = 1_800_000_000.0


def beat(path: Path, *, seconds_ago: float) -> Path:
    """A heartbeat file last touched ``seconds_ago`` before NOW."""
    path.write_text('')
    os.utime(path, (NOW - seconds_ago, NOW - seconds_ago))
    return path


def run(environ: dict[str, str], now: float = NOW) -> tuple[int, str]:
    err = io.StringIO()
    status = healthcheck.main(environ, clock=lambda: now, stderr=err)
    return status, err.getvalue()


def test_a_heartbeat_younger_than_the_limit_is_healthy_and_silent(tmp_path: Path) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=14)
    assert run({healthcheck.ENV_HEALTH_FILE: str(path)}) == (0, '')


def test_a_heartbeat_exactly_at_the_limit_is_still_healthy(tmp_path: Path) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=90)
    assert check(Settings(str(path), 90), NOW).healthy


def test_a_stale_heartbeat_is_unhealthy_and_says_how_old_it_is(tmp_path: Path) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=91.4)
    status, message = run({healthcheck.ENV_HEALTH_FILE: str(path)})
    assert status == 1
    assert message == (
        'streamer unhealthy: the last heartbeat is 91 s old (limit 90 s): the streamer is stuck or a socket is '
        'down; see its log for the reason\n'
    )


def test_a_missing_heartbeat_file_is_unhealthy_and_named(tmp_path: Path) -> None:
    missing = tmp_path / 'never-written'
    status, message = run({healthcheck.ENV_HEALTH_FILE: str(missing)})
    assert status == 1
    assert str(missing) in message
    assert 'has not had both sockets healthy' in message
    assert message.count('\n') == 1


def test_the_limit_comes_from_the_environment(tmp_path: Path) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=40)
    env = {healthcheck.ENV_HEALTH_FILE: str(path)}
    assert run({**env, healthcheck.ENV_HEALTH_MAX_AGE: '30'})[0] == 1
    assert run({**env, healthcheck.ENV_HEALTH_MAX_AGE: '45.5'})[0] == 0


def test_without_variables_the_documented_defaults_apply() -> None:
    default = '/tmp/tastyguard-streamer.health'  # noqa: S108 - the value the contract documents
    settings = Settings.from_environment({})
    assert (settings.path, settings.max_age) == (default, 90.0)
    blank = Settings.from_environment({healthcheck.ENV_HEALTH_FILE: ' ', healthcheck.ENV_HEALTH_MAX_AGE: ''})
    assert (blank.path, blank.max_age) == (default, 90.0)


@pytest.mark.parametrize('value', ['ninety', '0', '-5', 'nan', 'inf'])
def test_an_unusable_limit_is_unhealthy_and_names_the_variable(tmp_path: Path, value: str) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=1)
    with pytest.raises(SettingError, match=healthcheck.ENV_HEALTH_MAX_AGE):
        Settings.from_environment({healthcheck.ENV_HEALTH_MAX_AGE: value})
    status, message = run({healthcheck.ENV_HEALTH_FILE: str(path), healthcheck.ENV_HEALTH_MAX_AGE: value})
    assert status == 1
    assert f'{healthcheck.ENV_HEALTH_MAX_AGE}={value!r}' in message


def test_a_heartbeat_dated_far_in_the_future_is_not_trusted(tmp_path: Path) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=-600)
    verdict = check(Settings(str(path), 90), NOW)
    assert not verdict.healthy
    assert 'in the future' in verdict.reason


def test_a_small_clock_difference_into_the_future_is_healthy(tmp_path: Path) -> None:
    path = beat(tmp_path / 'hb', seconds_ago=-2)
    assert check(Settings(str(path), 90), NOW).healthy


def test_a_directory_is_not_a_heartbeat(tmp_path: Path) -> None:
    verdict = check(Settings(str(tmp_path), 90), NOW)
    assert not verdict.healthy
    assert 'not a regular file' in verdict.reason


def test_python_dash_m_runs_it_with_the_exit_status_ecs_reads(tmp_path: Path) -> None:
    # Given the module run exactly as the ECS health check runs it, against a fresh and a stale file
    fresh = tmp_path / 'fresh'
    fresh.write_text('')
    stale = tmp_path / 'stale'
    stale.write_text('')
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}

    def probe(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, '-m', 'streamer.healthcheck'],
            env={**env, healthcheck.ENV_HEALTH_FILE: str(path)},
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )

    # Then the fresh one exits 0 silently and the stale one exits 1 with one line on stderr
    healthy, unhealthy = probe(fresh), probe(stale)
    assert (healthy.returncode, healthy.stdout, healthy.stderr) == (0, '', '')
    assert (unhealthy.returncode, unhealthy.stdout) == (1, '')
    assert unhealthy.stderr.startswith('streamer unhealthy: the last heartbeat is ')
    assert unhealthy.stderr.count('\n') == 1


def test_the_check_imports_nothing_of_tastyguard() -> None:
    # The health check runs every 30 seconds: it must never pay for the streamer's own imports
    heavy = '{"tastyguard", "pydantic", "boto3", "dataclasses", "inspect"}'
    script = f'import sys, streamer.healthcheck; print(sorted(m for m in sys.modules if m.split(".")[0] in {heavy}))'
    probe = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, '-c', script],
        env={**os.environ, 'PYTHONPATH': str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert probe.stdout.strip() == '[]'
