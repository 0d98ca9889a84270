"""sync-positions (snapshot and diff) and the daily digest."""

from __future__ import annotations

import pytest

from tastyguard.jobs.invocation import JobName
from tests.integration.jobs.conftest import Harness

pytestmark = pytest.mark.integration


def test_sync_reports_opened_closed_and_changed_positions(harness: Harness) -> None:
    [first] = harness.run(JobName.SYNC_POSITIONS, account='5WT00001')
    assert first.positions == 11
    snapshot = harness.ctx.stores.snapshots.latest('5WT00001')
    assert snapshot is not None and len(snapshot.positions) == 11
    # When the person closes KO elsewhere, adds to NVDA and opens F
    harness.broker.admin.remove_position('5WT00001', 'KO')
    harness.broker.admin.add_position('5WT00001', 'NVDA', 50, '130.00')
    harness.broker.admin.add_position('5WT00001', 'F', 100, '10.50')
    [second] = harness.run(JobName.SYNC_POSITIONS, account='5WT00001')
    assert 'KO: closed (was +300)' in second.events
    assert 'NVDA: +200 → +250' in second.events
    assert 'F: opened +100' in second.events
    [notice] = [n for n in harness.notifier.sent if any(s.title == 'What changed' for s in n.sections)][-1:]
    assert notice.kind == 'sync_positions'


def test_sync_counts_consecutive_absent_reads_for_our_stale_stops(harness: Harness) -> None:
    # The ledger knows the stale INTC stop once ensure-stops (observe) has read the orders
    harness.ctx.mode_override = None
    harness.run(JobName.SYNC_POSITIONS, account='5WT00001')
    from tastyguard.config.models import Mode

    harness.ctx.mode_override = Mode.OBSERVE
    harness.run(JobName.ENSURE_STOPS, account='5WT00001')
    harness.ctx.mode_override = None
    before = harness.ctx.stores.snapshots.latest('5WT00001')
    harness.run(JobName.SYNC_POSITIONS, account='5WT00001')
    after = harness.ctx.stores.snapshots.latest('5WT00001')
    assert before is not None and after is not None
    assert after.absent_counts['INTC'] == before.absent_counts['INTC'] + 1


def test_the_digest_summarises_coverage_actions_and_what_waits(harness: Harness) -> None:
    harness.run(JobName.ENSURE_STOPS)
    harness.notifier.sent.clear()
    harness.broker.admin.clear_requests()
    [main, roth] = harness.run(JobName.DIGEST)
    assert main.unprotected == 2 and roth.unprotected == 0
    digests = [n for n in harness.notifier.sent if n.kind == 'digest']
    assert len(digests) == 2
    sections = {s.title: s.lines for s in digests[0].sections}
    assert any(line.startswith('AMD: +100 — unprotected') for line in sections['Positions and coverage'])
    assert any('ESZ6  261218P5800' in line and 'software stop' in line for line in sections['Positions and coverage'])
    assert '7 stops placed' in sections['What tastyguard did in the last 24 hours']
    assert any('AMD' in line for line in sections['Waiting for you'])
    assert digests[0].title.startswith('Daily digest: 9 of 11 positions protected')
    assert harness.writes() == []


def test_the_digest_states_an_alert_only_spreads_software_stop(harness: Harness) -> None:
    long_call, short_call = 'QQQ   270115C00500000', 'QQQ   270115C00510000'
    harness.broker.admin.add_position('5WT00001', long_call, 1, '10.00', bid='9.00', ask='9.20', last='9.10')
    harness.broker.admin.add_position('5WT00001', short_call, -1, '6.00', bid='5.40', ask='5.60', last='5.50')
    harness.run(JobName.ENSURE_STOPS)
    harness.notifier.sent.clear()
    harness.run(JobName.DIGEST)
    (digest,) = [n for n in harness.notifier.sent if n.kind == 'digest' and '5WT00001' in str(n.account)]
    sections = {s.title: s.lines for s in digest.sections}
    waiting = sections['Waiting for you']
    level = 'software stop at a natural credit of 2.00 per unit'
    assert any('QQQ structure' in line and level in line for line in waiting), waiting
