"""Greeks for option quotes: implied volatility from the option's mark, then Black-Scholes (equity options) or
Black-76 (futures options) sensitivities.

Conventions (those of most broker platforms): theta per calendar day, vega per volatility point (0.01), rho per
rate point (0.01), a flat 4 % rate and no dividends. The result is deterministic for a given quote, underlying
quote and virtual time; anything that cannot be computed (no underlying price, expired, a mark outside the
no-arbitrage range) is ``None``, which the feed sends as ``"NaN"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time

from paperbroker.clock import NEW_YORK

RATE = 0.04
_EXPIRY_TIME = time(16, 0)
_MIN_VOL, _MAX_VOL = 0.005, 5.0


@dataclass(frozen=True)
class Greeks:
    """What a DXLink ``Greeks`` event carries (``price`` is the option price the volatility was implied from)."""

    price: float
    volatility: float
    delta: float
    gamma: float
    theta: float
    rho: float
    vega: float


def _cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _pdf(x: float) -> float:
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _value(call: bool, spot: float, strike: float, years: float, vol: float, *, futures: bool) -> float:
    carry = 0.0 if futures else RATE  # Black-76 discounts a forward; Black-Scholes grows the spot at the rate
    d1 = (math.log(spot / strike) + (carry + vol * vol / 2) * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    discount = math.exp(-RATE * years)
    forward_factor = discount if futures else 1.0
    if call:
        return spot * forward_factor * _cdf(d1) - strike * discount * _cdf(d2)
    return strike * discount * _cdf(-d2) - spot * forward_factor * _cdf(-d1)


def implied_volatility(
    call: bool, price: float, spot: float, strike: float, years: float, *, futures: bool
) -> float | None:
    """The volatility that reprices the option (bisection), or None when no volatility does."""
    low, high = _MIN_VOL, _MAX_VOL
    if (
        not _value(call, spot, strike, years, low, futures=futures)
        <= price
        <= _value(call, spot, strike, years, high, futures=futures)
    ):
        return None
    for _ in range(80):
        middle = (low + high) / 2
        if _value(call, spot, strike, years, middle, futures=futures) < price:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def years_to_expiry(expiration: datetime, now: datetime) -> float:
    """Calendar years until ``expiration`` (an aware moment)."""
    return (expiration - now).total_seconds() / (365 * 86_400)


def greeks(
    *,
    call: bool,
    price: float | None,
    spot: float | None,
    strike: float,
    expiration: datetime,
    now: datetime,
    futures: bool,
) -> Greeks | None:
    """The option's greeks at ``now``, or None when they cannot be computed."""
    years = years_to_expiry(expiration, now)
    if price is None or spot is None or price <= 0 or spot <= 0 or strike <= 0 or years <= 0:
        return None
    vol = implied_volatility(call, price, spot, strike, years, futures=futures)
    if vol is None:
        return None
    root = math.sqrt(years)
    carry = 0.0 if futures else RATE
    d1 = (math.log(spot / strike) + (carry + vol * vol / 2) * years) / (vol * root)
    d2 = d1 - vol * root
    discount = math.exp(-RATE * years)
    scale = discount if futures else 1.0  # Black-76 sensitivities carry the discount factor
    delta = scale * (_cdf(d1) if call else _cdf(d1) - 1)
    gamma = scale * _pdf(d1) / (spot * vol * root)
    vega = scale * spot * _pdf(d1) * root / 100
    if futures:
        theta_year = -spot * discount * _pdf(d1) * vol / (2 * root) + RATE * _value(
            call, spot, strike, years, vol, futures=True
        )
        rho = -years * _value(call, spot, strike, years, vol, futures=True) / 100
    else:
        decay = -spot * _pdf(d1) * vol / (2 * root)
        if call:
            theta_year = decay - RATE * strike * discount * _cdf(d2)
            rho = strike * years * discount * _cdf(d2) / 100
        else:
            theta_year = decay + RATE * strike * discount * _cdf(-d2)
            rho = -strike * years * discount * _cdf(-d2) / 100
    return Greeks(price, vol, delta, gamma, theta_year / 365, rho, vega)


def expiry_moment(expiration_day: date) -> datetime:
    """16:00 New York on the expiration date, as an aware datetime."""
    return datetime.combine(expiration_day, _EXPIRY_TIME, NEW_YORK)
