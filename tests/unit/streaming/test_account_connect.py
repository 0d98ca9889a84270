"""What a ``connect`` reply of the account streamer confirms: the accounts the sweep may leave to the streamer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from tastyguard.broker.models.streamer import Notification, UnknownNotification
from tastyguard.streaming import ManualClock
from tastyguard.streaming.account import AccessTokens, AccountStream, AccountStreamConfig
from tastyguard.streaming.account.session import AccountSession, _acknowledged
from tastyguard.streaming.health import HealthReport
from tastyguard.streaming.service import StreamerService
from tastyguard.streaming.supervisor import Streamer

pytestmark = [pytest.mark.unit, pytest.mark.anyio]
ASKED = ['5WT00001', '5WT00002', '5WT00003']
MOMENT = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def _activity(notifications: list[Notification]) -> dict[str, datetime]:
    """What the streamer's ``_note_activity`` marks for ``notifications`` on a socket holding ``ASKED``, at MOMENT."""
    fake = SimpleNamespace(
        parts=SimpleNamespace(clock=SimpleNamespace(wall=lambda: MOMENT), accounts=ASKED),
        activity={},
        _changed=lambda: None,
    )
    Streamer._note_activity(fake, notifications)  # type: ignore[arg-type]
    return dict(fake.activity)


@pytest.mark.parametrize(
    ('value', 'confirmed'),
    [
        (['5WT00001', '5WT00002', '5WT00003'], ASKED),  # the documented reply echoes the list
        (['5WT00003', '5WT00001'], ['5WT00001', '5WT00003']),  # one left out: it is not held
        ('5WT00002', ['5WT00002']),  # one account as a bare string, as the JS SDK sends it
        (['5WT00001', '5WT09999'], ['5WT00001']),  # never an account that was not asked for
        (None, ASKED),  # a reply without a value
        ([], []),
    ],
)
def test_a_connect_reply_confirms_the_accounts_it_names(value: object, confirmed: list[str]) -> None:
    assert _acknowledged(value, ASKED) == confirmed


async def test_a_notification_that_does_not_parse_still_marks_its_account_as_changed() -> None:
    # Given the account stream's delivery, with a malformed Order notification among good ones
    delivered: list[Notification] = []
    stream = AccountStream('ws://127.0.0.1:9', ASKED, AccessTokens(None), on_notifications=delivered.extend)  # type: ignore[arg-type]
    bad = {'type': 'Order', 'data': {'account-number': '5WT00002', 'id': 'not a number', 'legs': 'nonsense'}}
    await stream._deliver([bad])
    # Then it is passed on raw (no fast-path event comes of it) ...
    [raw] = delivered
    assert isinstance(raw, UnknownNotification) and raw.type == 'Order' and stream.stats.unparsed == 1
    # ... and the streamer counts its account as changed, so the next sweep reads it
    assert _activity(delivered) == {'5WT00002': MOMENT}
    # and one that names no account could be about any of them
    assert set(_activity([UnknownNotification(type='ExternalTransaction', data=None)])) == set(ASKED)


def test_two_grants_streaming_one_account_report_its_newest_activity() -> None:
    old, new = datetime(2026, 12, 4, 15, 1, tzinfo=UTC), datetime(2026, 12, 4, 15, 20, tzinfo=UTC)

    def streamer(activity: dict[str, datetime], healthy: bool) -> SimpleNamespace:
        report = HealthReport({}, healthy, held={'5WT00001': old} if healthy else {}, activity=activity)
        return SimpleNamespace(report=lambda: report, symbols={})

    service = StreamerService(ctx=None, grants=[], sink=None, state=None)  # type: ignore[arg-type]
    service.streamers = {'live': streamer({'5WT00001': new}, True), 'dead': streamer({'5WT00001': old}, False)}
    assert service.report().activity == {'5WT00001': new}
    service.streamers = {'dead': streamer({'5WT00001': old}, False), 'live': streamer({'5WT00001': new}, True)}
    report = service.report()
    assert report.activity == {'5WT00001': new} and report.held == {'5WT00001': old}


@pytest.mark.parametrize(
    'frame',
    [
        '{"type":"Order","data":{"account-number":"5WT00002","id":100001,"status":"Cancel',  # cut short
        '{"results": [{"data": {"account-number": "5WT00002"}}]}',  # an item with neither type nor status
        '{"results": [17]}',
    ],
)
async def test_a_frame_that_cannot_be_read_marks_every_account_of_the_socket_as_changed(frame: str) -> None:
    # Given the account socket's session delivering into the stream, as the streamer wires them
    delivered: list[Notification] = []
    stream = AccountStream('ws://127.0.0.1:9', ASKED, AccessTokens(None), on_notifications=delivered.extend)  # type: ignore[arg-type]
    session = AccountSession(
        None,  # type: ignore[arg-type] - reading a frame never touches the socket
        accounts=ASKED,
        tokens=None,  # type: ignore[arg-type]
        config=AccountStreamConfig(),
        clock=ManualClock(),
        stop=asyncio.Event(),
        sink=stream._deliver,
        on_connected=_nothing,
    )
    # When a frame arrives that cannot be read (it could have been a person cancelling our stop)
    await session._frame(frame)
    # Then it is counted, and passed on as a notification about no account in particular ...
    assert session.counters.malformed == 1
    [unreadable] = delivered
    assert isinstance(unreadable, UnknownNotification)
    # ... so every account of the socket is due at the next sweep (decision 60)
    assert _activity(delivered) == dict.fromkeys(ASKED, MOMENT)


async def _nothing() -> None:
    return None
