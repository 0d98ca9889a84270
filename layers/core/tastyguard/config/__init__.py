"""The configuration: ``tastyguard.yaml`` validated by pydantic, and the effective stop policy per position."""

from tastyguard.config.distance import Distance, DistanceUnit, parse_distance
from tastyguard.config.effective import AccountPolicy, EffectivePolicy, account_policy
from tastyguard.config.loader import (
    DEFAULT_PATH,
    config_to_json,
    load_config,
    load_config_json,
    parse_config,
    parse_config_text,
)
from tastyguard.config.models import (
    AccountConfig,
    Environment,
    Mode,
    NotificationSettings,
    SafetySettings,
    ScheduleSettings,
    Severity,
    SlackSettings,
    TastyguardConfig,
    UnknownAccountError,
)
from tastyguard.config.policy import (
    Basis,
    OnHumanCancel,
    PolicyOverride,
    PolicyScope,
    PolicySet,
    StopKind,
    StopTimeInForce,
    SymbolOverride,
    WhenBreached,
)
from tastyguard.config.problems import ConfigError, Problem

__all__ = [
    'DEFAULT_PATH',
    'AccountConfig',
    'AccountPolicy',
    'Basis',
    'ConfigError',
    'Distance',
    'DistanceUnit',
    'EffectivePolicy',
    'Environment',
    'Mode',
    'NotificationSettings',
    'OnHumanCancel',
    'PolicyOverride',
    'PolicyScope',
    'PolicySet',
    'Problem',
    'SafetySettings',
    'ScheduleSettings',
    'Severity',
    'SlackSettings',
    'StopKind',
    'StopTimeInForce',
    'SymbolOverride',
    'TastyguardConfig',
    'UnknownAccountError',
    'WhenBreached',
    'account_policy',
    'config_to_json',
    'load_config',
    'load_config_json',
    'parse_config',
    'parse_config_text',
    'parse_distance',
]
