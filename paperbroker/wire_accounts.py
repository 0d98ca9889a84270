"""The exact JSON shapes of accounts, the customer, trading status and transactions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from paperbroker.amounts import ZERO, fmt, signed_pair
from paperbroker.clock import iso_ms, ny_date
from paperbroker.model import Account, Transaction, User
from paperbroker.wire import VENUE


def account_json(account: Account) -> dict[str, Any]:
    """An account as ``/customers/me/accounts`` returns it (inside ``{"account": ...}``)."""
    return {
        'account-number': account.number,
        'external-id': f'A{account.number}',
        'opened-at': iso_ms(account.opened_at),
        'nickname': account.nickname,
        'account-type-name': account.type_name,
        'day-trader-status': False,
        'is-closed': False,
        'is-firm-error': False,
        'is-firm-proprietary': False,
        'is-futures-approved': account.margin_or_cash == 'Margin',
        'is-test-drive': False,
        'margin-or-cash': account.margin_or_cash,
        'is-foreign': False,
        'funding-date': account.opened_at.date().isoformat(),
        'investment-objective': 'SPECULATION',
        'suitable-options-level': 'No Restrictions' if account.margin_or_cash == 'Margin' else 'Defined Risk',
        'created-at': iso_ms(account.opened_at),
    }


def trading_status_json(account: Account, now: datetime) -> dict[str, Any]:
    """``/accounts/{n}/trading-status``."""
    margin = account.margin_or_cash == 'Margin'
    flags = (
        'has-intraday-equities-margin',
        'is-aggregated-at-clearing',
        'is-closed',
        'is-closing-only',
        'is-cryptocurrency-enabled',
        'is-frozen',
        'is-full-equity-margin-required',
        'is-futures-closing-only',
        'is-futures-intra-day-enabled',
        'is-in-day-trade-equity-maintenance-call',
        'is-in-margin-call',
        'is-pattern-day-trader',
        'is-small-notional-futures-intra-day-enabled',
        'is-roll-the-day-forward-enabled',
        'are-far-otm-net-options-restricted',
        'is-equity-offering-enabled',
        'is-equity-offering-closing-only',
        'is-portfolio-margin-enabled',
        'is-risk-reducing-only',
    )
    data: dict[str, Any] = {'account-number': account.number, 'id': int(account.number[-5:], 36) % 10**6}
    data.update(dict.fromkeys(flags, False))
    data.update(
        {
            'equities-margin-calculation-type': 'Reg T',
            'fee-schedule-name': 'default',
            'futures-margin-rate-multiplier': '1.0',
            'is-futures-enabled': margin,
            'options-level': 'No Restrictions' if margin else 'Defined Risk',
            'short-calls-enabled': margin,
            'small-notional-futures-margin-rate-multiplier': '1.0',
            'day-trade-count': 0,
            'updated-at': iso_ms(now),
        }
    )
    return data


def customer_json(user: User) -> dict[str, Any]:
    """``/customers/me``: the fields the SDK's Customer model requires, with paper values."""
    address = {
        'city': 'Chicago',
        'country': 'USA',
        'is-domestic': True,
        'is-foreign': False,
        'postal-code': '60606',
        'state-region': 'IL',
        'street-one': '1 Paper Street',
    }
    account_type = {
        'name': 'Individual',
        'description': 'Individual Account',
        'is-tax-advantaged': False,
        'is-publicly-available': True,
        'has-multiple-owners': False,
        'margin-types': [{'name': 'Cash', 'is-margin': False}, {'name': 'Margin', 'is-margin': True}],
    }
    return {
        'id': 'me',
        'external-id': user.id,
        'first-name': user.first_name,
        'last-name': user.last_name,
        'email': user.email,
        'address': address,
        'mailing-address': address,
        'is-foreign': False,
        'usa-citizenship-type': 'Citizen',
        'mobile-phone-number': '+1 312-555-0100',
        'birth-date': '1980-01-01',
        'tax-number-type': 'SSN',
        'subject-to-tax-withholding': False,
        'has-industry-affiliation': False,
        'has-listed-affiliation': False,
        'has-political-affiliation': False,
        'has-delayed-quotes': False,
        'has-pending-or-approved-application': False,
        'is-professional': False,
        'permitted-account-types': [account_type],
        'created-at': iso_ms(user.created_at),
        'user-id': user.username,
    }


def transaction_json(tx: Transaction) -> dict[str, Any]:
    """A transaction as ``/accounts/{n}/transactions`` returns it."""
    data: dict[str, Any] = {'id': tx.id, 'account-number': tx.account_number}
    if tx.action:
        data['action'] = tx.action
    fees = tx.fees
    if tx.transaction_type == 'Trade':
        data.update(_fee_pair('clearing-fees', fees.get('clearing', ZERO)))
        data.update(_fee_pair('commission', fees.get('commission', ZERO)))
    data['created-at'] = _iso_z(tx.executed_at)
    data['currency'] = 'USD'
    data['description'] = tx.description
    if tx.transaction_type == 'Trade':
        data['destination-venue'] = VENUE
        data['exec-id'] = tx.exec_id
    data['executed-at'] = _iso_z(tx.executed_at)
    if tx.instrument_type:
        data['instrument-type'] = tx.instrument_type
    data['is-estimated-fee'] = True
    data.update(signed_pair('net-value', tx.net_value))
    if tx.order_id is not None:
        data['order-id'] = tx.order_id
    if tx.price is not None:
        data['price'] = fmt(tx.price)
    if tx.transaction_type == 'Trade':
        data.update(_fee_pair('proprietary-index-option-fees', ZERO))
    if tx.quantity is not None:
        data['quantity'] = fmt(tx.quantity)
    if tx.transaction_type == 'Trade':
        data.update(_fee_pair('regulatory-fees', fees.get('regulatory', ZERO) + fees.get('exchange', ZERO)))
    if tx.symbol:
        data['symbol'] = tx.symbol
    data['transaction-date'] = ny_date(tx.executed_at).isoformat()
    data['transaction-sub-type'] = tx.sub_type
    data['transaction-type'] = tx.transaction_type
    if tx.underlying_symbol:
        data['underlying-symbol'] = tx.underlying_symbol
    data.update(signed_pair('value', tx.value))
    return data


def _fee_pair(name: str, amount: Decimal) -> dict[str, str]:
    return {name: fmt(amount), f'{name}-effect': 'Debit' if amount else 'None'}


def _iso_z(moment: datetime) -> str:
    return iso_ms(moment).replace('+00:00', 'Z')
