"""The bench's simulation at a size CI affords: several grants, the broker's real per-token limits."""

from __future__ import annotations

import pytest

from bench.scale_sim import SimConfig, audit_broker, peak_per_second, simulate

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ticks_over_several_grants_protect_everything_without_a_429_or_a_violation() -> None:
    # Given 3 grants with 9 accounts of 4 positions between them, 3 emulated workers, the published limits
    report = simulate(SimConfig(accounts=9, positions=4, grants=3, ticks=2, concurrency=3, universe=30))
    # Then the first tick placed every stop, the second found nothing to do, and the broker never pushed back
    assert report['throttled'] == 0
    assert report['violations'] == 0, report['violation_examples']
    assert (report['protected'], report['unprotected']) == (36, 0)
    assert report['account_runs'] == {'ok': 18} and report['failed_account_runs'] == []
    first, second = report['per_tick']
    assert first['actions'].get('place:placed', 0) > 0 and 'place:placed' not in second['actions']
    # And no grant ever read positions faster than tastytrade's 1/s
    assert set(report['peak_positions_per_second'].values()) == {1}
    assert set(report['peak_requests_per_second']) == {'default', 'g2', 'g3'}


@pytest.mark.timeout(300)  # a real streamer starts, reads every account and connects before the ticks it serves
def test_with_the_streamer_holding_the_accounts_steady_ticks_read_only_a_share_of_the_quiet_ones() -> None:
    # Given 2 grants with 8 accounts of 2 positions, and the real streamer running beside the workers
    report = simulate(SimConfig(accounts=8, positions=2, grants=2, ticks=4, concurrency=3, universe=12, streamer=True))
    ticks = report['per_tick']
    # Then the first tick places every stop and no tick causes a 429 or a violation
    assert report['throttled'] == 0 and report['violations'] == 0, report['violation_examples']
    assert (report['protected'], report['unprotected']) == (16, 0)
    assert report['failed_account_runs'] == []
    # And once the streamer holds the accounts and each was swept while held, a tick reads ceil(4 × 5 / 30) = 1
    # quiet account per grant and leaves the other 6 to the streamer
    assert ticks[0]['quiet'] == 0 and ticks[0]['dispatched'] == 8
    assert [t['dispatched'] for t in ticks if t['quiet']] == [2] * len([t for t in ticks if t['quiet']])
    assert ticks[-1]['quiet'] == 6


def test_the_audit_finds_over_covered_duplicate_and_orphan_stops() -> None:
    def stop(symbol: str, quantity: int, tg: bool) -> dict[str, object]:
        return {
            'status': 'Live',
            'order-type': 'Stop',
            'external-identifier': 'tg-x' if tg else None,
            'legs': [
                {'symbol': symbol, 'quantity': quantity, 'remaining-quantity': quantity, 'action': 'Sell to Close'}
            ],
        }

    state = {
        'accounts': [
            {
                'account': {'account-number': '5WT00001'},
                'positions': [
                    {'symbol': 'AAA', 'quantity': '100', 'quantity-direction': 'Long'},
                    {'symbol': 'BBB', 'quantity': '10', 'quantity-direction': 'Long'},
                    {'symbol': 'CCC', 'quantity': '10', 'quantity-direction': 'Long'},
                ],
                'orders': [
                    stop('AAA', 60, True),
                    stop('AAA', 60, False),
                    stop('BBB', 5, True),
                    stop('BBB', 5, True),
                    stop('ZZZ', 1, True),
                ],
            }
        ]
    }
    audit = audit_broker(state)
    assert audit['violations'] == {'over_covered': 1, 'duplicates': 1, 'orphans': 1}
    assert (audit['protected'], audit['unprotected']) == (2, 1)


def test_the_peak_counts_requests_in_any_one_second_window() -> None:
    assert peak_per_second([0.0, 0.5, 0.99, 1.0, 2.5]) == 3
    assert peak_per_second([]) == 0
