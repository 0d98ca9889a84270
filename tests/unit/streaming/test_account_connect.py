"""What a ``connect`` reply of the account streamer confirms: the accounts the sweep may leave to the streamer."""

from __future__ import annotations

import pytest

from tastyguard.streaming.account.session import _acknowledged

pytestmark = pytest.mark.unit
ASKED = ['5WT00001', '5WT00002', '5WT00003']


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
