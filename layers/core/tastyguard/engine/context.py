"""Per-run lookups shared by the planner's parts: policy resolution (memoised), ticks, alerts, identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from tastyguard.config.effective import EffectivePolicy
from tastyguard.config.models import Severity
from tastyguard.config.policy import PolicyScope, StopKind
from tastyguard.engine.actions import Alert, AlertKind
from tastyguard.engine.expiry import for_last_session
from tastyguard.engine.identifiers import external_identifier
from tastyguard.engine.types import EQUITY_TICKS, Holding, InstrumentType, PlanInputs
from tastyguard.ticks import Tick

SCOPES = {
    InstrumentType.EQUITY: PolicyScope.EQUITY,
    InstrumentType.EQUITY_OPTION: PolicyScope.EQUITY_OPTION,
    InstrumentType.FUTURE: PolicyScope.FUTURE,
    InstrumentType.FUTURE_OPTION: PolicyScope.FUTURE_OPTION,
    InstrumentType.CRYPTO: PolicyScope.CRYPTO,
    InstrumentType.OTHER: PolicyScope.EQUITY,  # resolved only for hands-off and overrides; never protected
}


@dataclass(frozen=True, slots=True)
class Context:
    """One planning run: the inputs plus memoised policy lookups."""

    inputs: PlanInputs
    _policies: dict[tuple[PolicyScope, tuple[str, ...]], EffectivePolicy] = field(default_factory=dict)

    def policy(self, holding: Holding, scope: PolicyScope | None = None) -> EffectivePolicy:
        """The effective policy of ``holding`` (as a spread leg when ``scope`` is ``SPREAD``)."""
        scope = scope or SCOPES[holding.instrument_type]
        book = self.inputs.policy
        keys = tuple(key for key in symbol_keys(holding) if key in book.symbols or key in book.hands_off)
        memo = (scope, keys)
        if memo not in self._policies:
            self._policies[memo] = book.resolve(scope, keys)
        return for_last_session(self._policies[memo], holding, self.inputs.now)

    def structure_policy(self, underlying: str, legs: Sequence[Holding]) -> EffectivePolicy:
        """The ``spread`` policy of a structure: its underlying's, unless a leg is hands-off or alert-only.

        The most conservative wins: one hands-off leg makes the whole structure hands-off, one alert-only
        leg makes it alert-only (a structure stop closes every leg at once).
        """
        book = self.inputs.policy
        key = underlying.strip().upper()
        keys = (key,) if key in book.symbols or key in book.hands_off else ()
        memo = (PolicyScope.SPREAD, keys)
        if memo not in self._policies:
            self._policies[memo] = book.resolve(PolicyScope.SPREAD, keys)
        chosen = self._policies[memo]
        for leg in legs:
            chosen = for_last_session(chosen, leg, self.inputs.now)
        for kind in (StopKind.NONE, StopKind.ALERT_ONLY):
            for leg in legs:
                policy = self.policy(leg, PolicyScope.SPREAD)
                if policy.kind is kind:
                    return policy
        return chosen

    def ticks(self, symbol: str, instrument_type: InstrumentType) -> tuple[Tick, ...] | None:
        """The tick schedule for ``symbol``'s prices; the standard equity table for an unknown equity."""
        view = self.inputs.instruments.get(symbol)
        if view is not None and view.ticks:
            return view.ticks
        return EQUITY_TICKS if instrument_type is InstrumentType.EQUITY else None

    def alert(self, kind: AlertKind, severity: Severity, symbol: str | None, reason: str) -> Alert:
        """An alert whose dedupe key is ``kind:account:symbol`` (stable while the condition lasts)."""
        key = f'{kind}:{self.inputs.account_number}:{symbol or "*"}'
        return Alert(kind=kind, severity=severity, symbol=symbol, reason=reason, dedupe_key=key)

    def identifier(self, symbol: str, side: str, purpose: str, quantity: Decimal, trigger: Decimal | None) -> str:
        """The deterministic external identifier of one intended order in this run."""
        return external_identifier(
            account_number=self.inputs.account_number,
            symbol=symbol,
            side=side,
            purpose=purpose,
            quantity=quantity,
            trigger=trigger,
            salt=self.inputs.salt,
        )


def symbol_keys(holding: Holding) -> Iterable[str]:
    """The names a symbol override may use for ``holding``, least specific first."""
    for key in (holding.root_symbol, holding.underlying_symbol, holding.symbol):
        if key:
            yield key.strip().upper()
