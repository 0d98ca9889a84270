"""The tastyware paper API over raw HTTP (Python's standard library only), against the paper broker.

Run ``tastyguard paper serve`` and export two values of the JSON line it prints::

    TASTYWARE_PAPER_URL=<tastyware_paper_url>
    TW_API_KEY=<tastyware_api_key>

Every request carries ``X-Api-Key``; bodies are the tastytrade API's kebab-case JSON, plus the paper API's
``behavior`` / ``delay`` / ``schedule`` fill control. Errors come back as ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

PAPER_URL = os.environ['TASTYWARE_PAPER_URL']
ADMIN_URL = PAPER_URL.removesuffix('/tastyware') + '/_paper'
HEADERS = {'X-Api-Key': os.environ['TW_API_KEY'], 'Content-Type': 'application/json', 'User-Agent': 'raw-http/1.0'}


def call(method: str, path: str, body: Any = None, **params: str) -> Any:
    """One request; returns the decoded ``data`` (raises with the API's error message on failure)."""
    url = f'{PAPER_URL}{path}' + (f'?{urllib.parse.urlencode(params)}' if params else '')
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=HEADERS)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())['data']
    except urllib.error.HTTPError as error:
        problem = json.loads(error.read())['error']
        raise SystemExit(f'{method} {path}: {error.code} {problem["code"]}: {problem["message"]}') from None


def main() -> None:
    account = call('POST', '/accounts', {'account_name': 'raw', 'margin_or_cash': 'Margin', 'initial_deposit': 10_000})
    number = account['account-number']
    call('POST', '/accounts/deposit', account_number=number, amount='-500.00')  # a withdrawal
    print(f'{number}: cash {call("GET", f"/accounts/{number}/balances/USD")["cash-balance"]}')

    order = {
        'time-in-force': 'Day',
        'order-type': 'Market',
        'behavior': 'delayed',  # the paper API's fill control: fill 60 s after placement
        'delay': 60,
        'legs': [{'instrument-type': 'Equity', 'symbol': 'KO', 'quantity': 10, 'action': 'Buy to Open'}],
    }
    placed = call('POST', f'/accounts/{number}/orders', order)['order']
    order_path = f'/accounts/{number}/orders/{placed["id"]}'
    print(f'{order_path}: {call("GET", order_path)["status"]}')
    # The paper broker's own admin API (not part of the paid service): skip the 60 s instead of waiting.
    admin = urllib.request.Request(
        f'{ADMIN_URL}/clock', data=b'{"advance_seconds": 60}', method='POST', headers=HEADERS
    )
    urllib.request.urlopen(admin, timeout=10).close()
    print(f'{order_path}: {call("GET", order_path)["status"]}')

    wrong = urllib.request.Request(f'{PAPER_URL}/customers/me/accounts', headers={**HEADERS, 'X-Api-Key': 'wrong'})
    try:
        urllib.request.urlopen(wrong, timeout=10)
    except urllib.error.HTTPError as error:
        print(f'a wrong key: {error.code} {json.loads(error.read())["error"]["code"]}')

    deleted = call('DELETE', '/accounts', account_number=number)
    print(f'deleted {number}: {deleted["deleted-orders"]} orders, {deleted["deleted-transactions"]} transactions')


if __name__ == '__main__':
    main()
