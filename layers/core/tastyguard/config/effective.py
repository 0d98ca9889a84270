"""Stacking policy layers into the effective stop policy for one position.

Layers, lowest first (a later layer overrides only the fields it sets)::

    built-in defaults
    built-in defaults for the instrument type   (options 50%; futures options, crypto, spreads: alert_only)
    policy                      (top level)
    accounts[i].policy          (the account)
    policy.instrument_types.<type>
    accounts[i].policy.instrument_types.<type>
    policy.symbols.<underlying>, accounts[i].policy.symbols.<underlying>
    policy.symbols.<symbol>,     accounts[i].policy.symbols.<symbol>
    hands_off lists             (kind: none)

The more specific layer always wins (symbol over instrument type over default); at the same specificity
the account wins over the top level. Where the built-in default for a type is ``alert_only`` (futures
options, crypto, spreads), a general layer's ``kind`` only applies when it is ``alert_only`` or ``none``:
a default of ``kind: stop`` never turns a spread or a futures option into an order the broker rejects;
placing orders there takes an explicit ``instrument_types`` entry (or a symbol override with
``applies_to``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tastyguard.config.distance import Distance, DistanceUnit
from tastyguard.config.levels import PriceLevel
from tastyguard.config.models import AccountConfig, TastyguardConfig
from tastyguard.config.policy import (
    EXT_SCOPES,
    Basis,
    OnHumanCancel,
    PolicyOverride,
    PolicyScope,
    SoftwareTrigger,
    StopKind,
    StopTimeInForce,
    TrailPrice,
    WhenBreached,
)


def _pct(value: int) -> Distance:
    return Distance(Decimal(value), DistanceUnit.PERCENT)


BUILTIN_DEFAULTS: Mapping[str, object] = {
    'kind': StopKind.STOP,
    'distance': _pct(10),
    'basis': Basis.ENTRY,
    'credit_multiple': Decimal(2),
    'min_distance': None,
    'max_distance': None,
    'trail_min_step': _pct(1),
    'when_breached': WhenBreached.ALERT,
    'clamp_distance': _pct(2),
    'limit_offset': _pct(1),
    'time_in_force': StopTimeInForce.GTC,
    'on_human_cancel': OnHumanCancel.RESPECT,
    'expiry_day_kind': None,
    'expiry_cutoff_minutes': 30,
    'trail_price': TrailPrice.BID_ASK,
    'trail_max_moves': 4,
    'trail_quote_max_age_seconds': 10,
    'on_software_trigger': SoftwareTrigger.ALERT,
    'software_collar': _pct(2),
    'price_alerts': (),
}
"""What applies where the configuration says nothing."""

BUILTIN_SCOPE_DEFAULTS: Mapping[PolicyScope, Mapping[str, object]] = {
    PolicyScope.EQUITY_OPTION: {'distance': _pct(50)},
    PolicyScope.FUTURE_OPTION: {'kind': StopKind.ALERT_ONLY, 'distance': _pct(50)},  # on premium, like options
    PolicyScope.CRYPTO: {'kind': StopKind.ALERT_ONLY},
    PolicyScope.SPREAD: {'kind': StopKind.ALERT_ONLY, 'distance': _pct(50)},
}
"""Built-in per-type defaults: option stops are on premium; the broker takes no stops on futures options."""

_SAFE_KINDS = frozenset({StopKind.ALERT_ONLY, StopKind.NONE})


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """The complete policy for one position, with the layer each value came from."""

    scope: PolicyScope
    kind: StopKind
    distance: Distance
    basis: Basis
    credit_multiple: Decimal
    min_distance: Distance | None
    max_distance: Distance | None
    trail_min_step: Distance
    when_breached: WhenBreached
    clamp_distance: Distance
    limit_offset: Distance
    time_in_force: StopTimeInForce
    on_human_cancel: OnHumanCancel
    expiry_day_kind: StopKind | None
    expiry_cutoff_minutes: int
    trail_price: TrailPrice = TrailPrice.BID_ASK
    trail_max_moves: int = 4
    trail_quote_max_age_seconds: int = 10
    on_software_trigger: SoftwareTrigger = SoftwareTrigger.ALERT
    software_collar: Distance = field(default_factory=lambda: _pct(2))
    price_alerts: tuple[PriceLevel, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()

    def describe(self) -> dict[str, str]:
        """Field name → value as a config file would write it (``-`` for unset guards)."""
        return {name: _written(getattr(self, name)) for name in BUILTIN_DEFAULTS}


def _written(value: object) -> str:
    if value is None or value == ():
        return '-'
    if isinstance(value, tuple):
        return ', '.join(str(item) for item in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class _Layer:
    name: str
    values: Mapping[str, object]
    specific: bool  # written for this instrument type (so any allowed kind applies)


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """Everything needed to resolve the effective policy of any position in one account."""

    account_number: str
    general: tuple[_Layer, ...]
    by_scope: Mapping[PolicyScope, tuple[_Layer, ...]]
    symbols: Mapping[str, tuple[tuple[_Layer, tuple[PolicyScope, ...] | None], ...]]
    hands_off: Mapping[str, str]

    def resolve(self, scope: PolicyScope, keys: Sequence[str] = ()) -> EffectivePolicy:
        """The effective policy for a position of ``scope`` whose symbol keys are ``keys``.

        ``keys`` are the names a symbol override can use for the position, least specific first (the
        futures product, the underlying, the position's own symbol); duplicates are ignored.
        """
        layers: list[_Layer] = [*self.general[:1], *self.by_scope.get(scope, ())[:1]]
        layers += [*self.general[1:], *self.by_scope.get(scope, ())[1:]]
        matched = tuple(dict.fromkeys(k.strip().upper() for k in keys))
        for key in matched:
            layers += [layer for layer, only in self.symbols.get(key, ()) if only is None or scope in only]
        layers += [
            _Layer(self.hands_off[key], {'kind': StopKind.NONE}, False) for key in matched if key in self.hands_off
        ]
        return _stack(scope, layers)


def _stack(scope: PolicyScope, layers: Iterable[_Layer]) -> EffectivePolicy:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    guarded = 'kind' in BUILTIN_SCOPE_DEFAULTS.get(scope, {})
    for layer in layers:
        for name, value in layer.values.items():
            kindlike = name in ('kind', 'expiry_day_kind') and value is not None
            if kindlike and guarded and not layer.specific and value not in _SAFE_KINDS:
                continue  # a general `kind: stop` never turns on orders where the built-in says alert_only
            values[name] = value
            sources[name] = layer.name
    if values['time_in_force'] is StopTimeInForce.GTC_EXT and scope not in EXT_SCOPES:
        notes.append(f'GTC Ext is for equities only; {scope} stops use GTC')
        values['time_in_force'] = StopTimeInForce.GTC
    return EffectivePolicy(scope=scope, sources=sources, notes=tuple(notes), **values)


def _layer(name: str, override: PolicyOverride, *, specific: bool) -> _Layer:
    return _Layer(name, override.set_fields(), specific)


def account_policy(config: TastyguardConfig, account: AccountConfig | str) -> AccountPolicy:
    """Build the :class:`AccountPolicy` of one configured account (by config object or account number)."""
    if isinstance(account, str):
        account = config.account(account)
    index = config.accounts.index(account) if account in config.accounts else None  # None: only a grant lists it
    prefix = f'accounts[{index}].policy' if index is not None else f'accounts[{account.account_number}].policy'
    top, own = config.policy, account.policy
    general = (
        _Layer('built-in default', BUILTIN_DEFAULTS, specific=False),
        _layer('policy', top, specific=False),
        _layer(prefix, own, specific=False),
    )
    by_scope: dict[PolicyScope, tuple[_Layer, ...]] = {}
    for scope in PolicyScope:
        scoped = [_Layer(f'built-in {scope} default', BUILTIN_SCOPE_DEFAULTS.get(scope, {}), specific=True)]
        for name, policy_set in (('policy', top), (prefix, own)):
            if scope in policy_set.instrument_types:
                scoped.append(
                    _layer(f'{name}.instrument_types.{scope}', policy_set.instrument_types[scope], specific=True)
                )
        by_scope[scope] = tuple(scoped)
    symbols: dict[str, list[tuple[_Layer, tuple[PolicyScope, ...] | None]]] = {}
    for name, policy_set in (('policy', top), (prefix, own)):
        for symbol, override in policy_set.symbols.items():
            specific = override.applies_to is not None
            symbols.setdefault(symbol, []).append(
                (_layer(f'{name}.symbols.{symbol}', override, specific=specific), override.applies_to)
            )
    hands_off = dict.fromkeys(config.hands_off, 'hands_off')
    hands_off.update(dict.fromkeys(account.hands_off, f'{prefix.removesuffix(".policy")}.hands_off'))
    return AccountPolicy(
        account_number=account.account_number,
        general=general,
        by_scope=by_scope,
        symbols={key: tuple(value) for key, value in symbols.items()},
        hands_off=hands_off,
    )
