"""``python -m streamer``: runs the service's ``main()``, or says plainly that the image lacks it."""

from __future__ import annotations

import sys
import types

import pytest

from streamer.__main__ import EXIT_NOT_INSTALLED, SERVICE_MODULE, main

pytestmark = pytest.mark.unit


def fake_service(monkeypatch: pytest.MonkeyPatch, name: str, result: int | None) -> list[str]:
    calls: list[str] = []
    module = types.ModuleType(name)

    def run() -> int | None:
        calls.append('main')
        return result

    module.main = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, module)
    return calls


def test_the_entry_point_is_the_lead_streamers_service_module() -> None:
    assert SERVICE_MODULE == 'tastyguard.streaming.service'


@pytest.mark.parametrize(('returned', 'status'), [(None, 0), (0, 0), (3, 3)])
def test_the_service_main_runs_and_its_status_is_the_exit_status(
    monkeypatch: pytest.MonkeyPatch, returned: int | None, status: int
) -> None:
    calls = fake_service(monkeypatch, 'tastyguard.streaming.fake_service', returned)
    assert main('tastyguard.streaming.fake_service') == status
    assert calls == ['main']


def test_an_image_without_the_service_says_so_instead_of_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main('tastyguard.streaming.no_such_service') == EXIT_NOT_INSTALLED
    message = capsys.readouterr().err
    assert message.startswith('tastyguard streamer: tastyguard.streaming.no_such_service is not in this image')
    assert message.count('\n') == 1


def test_a_missing_dependency_of_the_service_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a service module whose own import fails on a package the image lacks
    name = 'tastyguard.streaming.needs_a_package'

    class Finder:
        def find_spec(self, fullname: str, *_args: object) -> None:
            if fullname == name:
                raise ModuleNotFoundError("No module named 'websockets_extra'", name='websockets_extra')

    monkeypatch.setattr(sys, 'meta_path', [Finder(), *sys.meta_path])
    # Then the real error surfaces, naming the missing package
    with pytest.raises(ModuleNotFoundError, match='websockets_extra'):
        main(name)
