"""JSON shapes of instruments, option chains and REST quotes, following the recorded sandbox payloads."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from paperbroker.amounts import fmt
from paperbroker.clock import iso_ms, iso_z
from paperbroker.instruments import (
    MONTH_CODES,
    Equity,
    EquityOption,
    Future,
    FutureOption,
    FutureProduct,
    Instrument,
    Tick,
)
from paperbroker.model import Quote

if TYPE_CHECKING:
    from paperbroker.core import Settings


def ticks_json(ticks: list[Tick] | tuple[Tick, ...]) -> list[dict[str, str]]:
    """``[{"threshold": "1.0", "value": "0.0001"}, {"value": "0.01"}]``."""
    return [{'threshold': fmt(t), 'value': fmt(v)} if t is not None else {'value': fmt(v)} for t, v in ticks]


def equity_json(equity: Equity) -> dict[str, Any]:
    """``/instruments/equities/{symbol}``."""
    return {
        'id': equity.id,
        'symbol': equity.symbol,
        'instrument-type': 'Equity',
        'cusip': f'{equity.id:09d}',
        'short-description': equity.description[:30],
        'is-index': equity.is_index,
        'listed-market': 'ARCX' if equity.is_etf else 'XNAS',
        'description': equity.description,
        'lendability': 'Easy To Borrow',
        'borrow-rate': '0.0',
        'market-time-instrument-collection': 'Equity',
        'is-closing-only': False,
        'is-options-closing-only': False,
        'active': True,
        'is-fractional-quantity-eligible': True,
        'is-illiquid': False,
        'is-etf': equity.is_etf,
        'streamer-symbol': equity.streamer_symbol,
        'overnight-trading-permitted': False,
        'tick-sizes': ticks_json(equity.ticks),
        'option-tick-sizes': ticks_json(equity.option_ticks),
    }


def option_json(option: EquityOption, today: date, settings: Settings) -> dict[str, Any]:
    """``/instruments/equity-options/{symbol}`` (the option-chain item shape plus ``instrument-type``).

    ``expires-at`` is the session close of the expiration date in New York (21:00 UTC in winter, 20:00 in summer,
    as recorded; an early close when the settings hold one for that date).
    """
    expires = iso_ms(settings.close_of(option.expiration))
    return {
        'active': True,
        'days-to-expiration': max((option.expiration - today).days, 0),
        'exercise-style': 'American',
        'expiration-date': option.expiration.isoformat(),
        'expiration-type': 'Regular'
        if option.expiration.weekday() == 4 and 15 <= option.expiration.day <= 21
        else 'Weekly',
        'expires-at': expires,
        'instrument-type': 'Equity Option',
        'is-closing-only': False,
        'market-time-instrument-collection': 'Equity Option',
        'option-chain-type': 'Standard',
        'option-type': option.option_type,
        'root-symbol': option.root,
        'settlement-type': 'PM',
        'shares-per-contract': 100,
        'stops-trading-at': expires,
        'streamer-symbol': option.streamer_symbol,
        'strike-price': fmt(option.strike),
        'symbol': option.symbol,
        'underlying-symbol': option.underlying_symbol,
    }


def future_product_json(product: FutureProduct, *, with_options: bool = False) -> dict[str, Any]:
    """A futures product (nested in futures, and ``/instruments/future-products/{exchange}/{code}``)."""
    months = ['H', 'M', 'U', 'Z'] if product.sector == 'Equity Index' else list(MONTH_CODES)
    data: dict[str, Any] = {
        'active-months': months,
        'back-month-first-calendar-symbol': True,
        'cash-settled': product.sector == 'Equity Index',
        'clearing-code': product.code,
        'clearing-exchange-code': '16',
        'clearport-code': product.code,
        'code': product.code,
        'description': product.description,
        'display-factor': '0.01',
        'exchange': product.exchange,
        'first-notice': product.sector != 'Equity Index',
        'legacy-code': product.code,
        'legacy-exchange-code': product.exchange,
        'listed-months': months,
        'market-sector': product.sector,
        'notional-multiplier': fmt(product.multiplier),
        'product-type': 'Financial' if product.sector == 'Equity Index' else 'Physical',
        'security-group': product.code,
        'small-notional': product.multiplier < 10,
        'streamer-exchange-code': product.streamer_exchange,
        'supported': True,
        'root-symbol': f'/{product.code}',
        'tick-size': fmt(product.tick_size),
        'underlying-description': product.underlying_description,
        'underlying-identifier': product.underlying_identifier,
        'roll': {
            'active-count': 6,
            'business-days-offset': 4,
            'cash-settled': product.sector == 'Equity Index',
            'first-notice': False,
            'name': 'expanded_offering_equity_index',
        },
        'futures-trading-cutoff-times': [{'offset-seconds': 34200, 'timezone': 'Market Zone', 'timing': 'Default'}],
    }
    if with_options:
        data['option-products'] = [future_option_product_json(product, product.code, 'Regular')]
    return data


def future_option_product_json(product: FutureProduct, root: str, expiration_type: str) -> dict[str, Any]:
    """A futures option product (``future-option-product``)."""
    return {
        'cash-settled': False,
        'clearing-code': root,
        'clearing-exchange-code': '16',
        'clearing-price-multiplier': '1.0',
        'clearport-code': root,
        'code': root,
        'display-factor': '0.01',
        'exchange': product.exchange,
        'expiration-type': expiration_type,
        'is-am-settled': expiration_type == 'Regular',
        'is-rollover': False,
        'legacy-code': root,
        'market-sector': product.sector,
        'product-type': 'Physical',
        'root-symbol': root,
        'settlement-delay-days': 0,
        'supported': True,
        'futures-trading-cutoff-times': [{'offset-seconds': 34200, 'timezone': 'Market Zone', 'timing': 'Default'}],
    }


def future_json(future: Future, today: date) -> dict[str, Any]:
    """``/instruments/futures/{symbol}`` (the recorded ``/ESZ6`` shape)."""
    product = future.product
    stops = f'{future.expiration.isoformat()}T14:30:00.000+00:00'
    nearest = future.expiration - today < timedelta(days=92)
    data: dict[str, Any] = {
        'active': True,
        'active-month': nearest,
        'back-month-first-calendar-symbol': True,
        'closing-only-date': future.expiration.isoformat(),
        'contract-size': fmt(product.multiplier),
        'display-factor': '0.01',
        'exchange': product.exchange,
        'exchange-symbol': future.exchange_symbol,
        'expiration-date': future.expiration.isoformat(),
        'expires-at': stops,
        'product-group': f'{product.exchange}_{product.code}',
        'is-closing-only': False,
        'last-trade-date': future.expiration.isoformat(),
        'main-fraction': '0.0',
        'next-active-month': not nearest,
        'notional-multiplier': fmt(product.multiplier),
        'product-code': product.code,
        'security-id': str(future.id),
        'stops-trading-at': stops,
        'streamer-exchange-code': product.streamer_exchange,
        'streamer-symbol': future.streamer_symbol,
        'sub-fraction': '0.0',
        'symbol': future.symbol,
        'tick-size': fmt(product.tick_size),
        'is-tradeable': True,
        'instrument-type': 'Future',
    }
    if product.etf is not None:
        data['future-etf-equivalent'] = {'share-quantity': product.etf[1], 'symbol': product.etf[0]}
    data['future-product'] = future_product_json(product)
    data['option-tick-sizes'] = ticks_json(product.option_ticks)
    data['tick-sizes'] = ticks_json(future.ticks)
    data['spread-tick-sizes'] = [{'symbol': future.symbol, 'value': '0.05'}]
    return data


def future_option_json(option: FutureOption, today: date) -> dict[str, Any]:
    """``/instruments/future-options/{symbol}`` (the recorded futures-option shape)."""
    product = option.future.product
    stops = f'{option.expiration.isoformat()}T14:30:00.000+00:00'
    return {
        'active': True,
        'days-to-expiration': max((option.expiration - today).days, 0),
        'display-factor': '0.01',
        'exchange': product.exchange,
        'exchange-symbol': f'{option.contract} {option.option_type}{fmt(option.strike).removesuffix(".0")}',
        'exercise-style': 'American',
        'expiration-date': option.expiration.isoformat(),
        'expires-at': stops,
        'future-price-ratio': '1.0',
        'instrument-type': 'Future Option',
        'is-closing-only': False,
        'is-confirmed': True,
        'is-exercisable-weekly': True,
        'is-primary-deliverable': True,
        'is-vanilla': True,
        'last-trade-time': '0',
        'maturity-date': option.expiration.isoformat(),
        'multiplier': '1.0',
        'notional-value': '0.5',
        'option-root-symbol': option.option_root,
        'option-type': option.option_type,
        'product-code': product.code,
        'root-symbol': f'/{product.code}',
        'security-exchange': '2',
        'security-id': str(option.id),
        'settlement-type': 'Future',
        'stops-trading-at': stops,
        'streamer-symbol': option.streamer_symbol,
        'strike-factor': '1.0',
        'strike-price': fmt(option.strike),
        'sx-id': '0',
        'symbol': option.symbol,
        'underlying-count': '1.0',
        'underlying-symbol': option.future.symbol,
        'future-option-product': future_option_product_json(product, option.option_root, 'Regular'),
    }


def nested_chain_json(
    underlying: Equity, options: list[EquityOption], today: date, settings: Settings
) -> dict[str, Any]:
    """One item of ``/option-chains/{symbol}/nested``."""
    by_expiry: dict[date, dict[Decimal, dict[str, EquityOption]]] = {}
    for option in options:
        by_expiry.setdefault(option.expiration, {}).setdefault(option.strike, {})[option.option_type] = option
    expirations = []
    for expiration in sorted(by_expiry):
        strikes = []
        for strike in sorted(by_expiry[expiration]):
            pair = by_expiry[expiration][strike]
            if 'C' in pair and 'P' in pair:
                strikes.append(
                    {
                        'strike-price': fmt(strike),
                        'call': pair['C'].symbol,
                        'call-streamer-symbol': pair['C'].streamer_symbol,
                        'put': pair['P'].symbol,
                        'put-streamer-symbol': pair['P'].streamer_symbol,
                    }
                )
        sample = option_json(next(iter(by_expiry[expiration][min(by_expiry[expiration])].values())), today, settings)
        expirations.append(
            {
                'expiration-type': sample['expiration-type'],
                'expiration-date': expiration.isoformat(),
                'days-to-expiration': sample['days-to-expiration'],
                'settlement-type': 'PM',
                'strikes': strikes,
            }
        )
    return {
        'underlying-symbol': underlying.symbol,
        'root-symbol': underlying.symbol,
        'option-chain-type': 'Standard',
        'shares-per-contract': 100,
        'tick-sizes': ticks_json(underlying.option_ticks),
        'deliverables': [
            {
                'id': underlying.id,
                'amount': '100.0',
                'deliverable-type': 'Shares',
                'description': f'100 shares of {underlying.symbol}',
                'instrument-type': 'Equity',
                'percent': '100',
                'root-symbol': underlying.symbol,
                'symbol': underlying.symbol,
            }
        ],
        'expirations': expirations,
    }


def instrument_json(instrument: Instrument, today: date, settings: Settings) -> dict[str, Any]:
    """Any instrument in its own endpoint's shape."""
    if isinstance(instrument, Equity):
        return equity_json(instrument)
    if isinstance(instrument, EquityOption):
        return option_json(instrument, today, settings)
    if isinstance(instrument, Future):
        return future_json(instrument, today)
    return future_option_json(instrument, today)


def market_data_json(instrument: Instrument, quote: Quote, now: datetime, today: date) -> dict[str, Any]:
    """One item of ``/market-data/by-type`` (the recorded kebab-case shape)."""
    last = quote.last if quote.last is not None else quote.mark
    data: dict[str, Any] = {}
    if quote.ask is not None:
        data['ask'] = fmt(quote.ask)
    data['ask-size'] = fmt(quote.ask_size)
    data['beta'] = '1.0'
    if quote.bid is not None:
        data['bid'] = fmt(quote.bid)
    data['bid-size'] = fmt(quote.bid_size)
    data['close-price-type'] = 'Regular'
    data['day-high-price'] = fmt(quote.high if quote.high is not None else last or Decimal(0))
    data['day-low-price'] = fmt(quote.low if quote.low is not None else last or Decimal(0))
    data['dividend-amount'] = '0.0'
    data['dividend-frequency'] = '0.0'
    data['halt-end-time'] = -1
    data['halt-start-time'] = -1
    reference = quote.prev_close or last or Decimal(0)
    data['high-limit-price'] = fmt((reference * Decimal('1.05')).quantize(Decimal('0.01')))
    data['instrument-type'] = instrument.instrument_type
    data['is-trading-halted'] = False
    if last is not None:
        data['last'] = fmt(last)
        data['last-mkt'] = fmt(last)
    data['low-limit-price'] = fmt((reference * Decimal('0.95')).quantize(Decimal('0.01')))
    if quote.mark is not None:
        data['mark'] = fmt(last if last is not None else quote.mark)
        data['mid'] = fmt(quote.mark)
    data['open'] = fmt(quote.open if quote.open is not None else reference)
    data['prev-close'] = fmt(reference)
    data['prev-close-date'] = (today - timedelta(days=1)).isoformat()
    data['prev-close-price-type'] = 'Final'
    data['summary-date'] = today.isoformat()
    data['symbol'] = instrument.symbol
    data['updated-at'] = iso_z(quote.updated_at or now)
    data['volume'] = fmt(quote.volume)
    data['volume-ext'] = '0.0'
    data['year-high-price'] = fmt((quote.high or reference) * Decimal('1.25'))
    data['year-low-price'] = fmt((quote.low or reference) * Decimal('0.75'))
    return data
