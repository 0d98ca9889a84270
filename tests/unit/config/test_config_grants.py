"""Grants in tastyguard.yaml: which login reaches which account, and every ambiguity refused with its fix."""

from __future__ import annotations

import pytest

from tastyguard.config import ConfigError, config_to_json, load_config_json, parse_config, parse_config_text
from tastyguard.config.grants import GrantConfig, broker_secret_name, token_secret_name
from tastyguard.config.models import UnknownAccountError
from tastyguard.store import keys

pytestmark = pytest.mark.unit


def config(**extra: object) -> dict[str, object]:
    return {'environment': 'production', **extra}


def problems(data: dict[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, 'tastyguard.yaml')
    return [str(problem) for problem in caught.value.problems]


def test_without_grants_one_default_grant_holds_every_account_in_the_old_secrets() -> None:
    parsed = parse_config(config(accounts=[{'account_number': '5WX01234'}, {'account_number': '5WX05678'}]))
    (grant,) = parsed.effective_grants
    assert (grant.name, grant.secret_name, grant.token_secret_name) == (
        'default',
        'tastyguard/broker',
        'tastyguard/access-token',
    )
    assert grant.accounts == ('5WX01234', '5WX05678')
    assert {parsed.grant_of('5wx01234'), parsed.grant_of('5WX05678')} == {'default'}


def test_accounts_belong_to_the_grant_that_lists_them_or_the_one_they_name() -> None:
    parsed = parse_config(
        config(
            grants=[{'name': 'Family', 'accounts': ['5WX00001']}, {'name': 'advisor', 'discover': True}],
            accounts=[{'account_number': '5WX00002', 'grant': 'family'}, {'account_number': '5WX00003'}],
        )
    )
    assert parsed.grant_of('5WX00001') == 'family'  # names are lower-cased
    assert parsed.grant_of('5WX00002') == 'family'
    assert parsed.grant_of('5WX00003') == 'advisor'  # the only discovering grant
    assert parsed.grant_of('5WX99999') is None  # not in the file (discovery decides at run time)
    assert [a.account_number for a in parsed.configured_accounts()] == ['5WX00002', '5WX00003', '5WX00001']
    assert parsed.account('5WX00001').policy == parsed.account('5WX00003').policy  # listed-only: top-level settings


def test_grant_secrets_default_to_names_derived_from_the_grant() -> None:
    grant = GrantConfig(name='family')
    assert (grant.secret_name, grant.token_secret_name) == (
        'tastyguard/grants/family',
        'tastyguard/access-token/family',
    )
    assert GrantConfig(name='x', secret='clients/x').secret_name == 'clients/x'
    assert (broker_secret_name('default'), token_secret_name('default')) == (
        'tastyguard/broker',
        'tastyguard/access-token',
    )


def test_a_discovering_grant_admits_every_account_except_the_excluded() -> None:
    grant = GrantConfig.model_validate({'name': 'advisor', 'discover': True, 'except': ['5wx00009']})
    assert grant.admits('5WX00001') and not grant.admits('5WX00009')
    assert not GrantConfig(name='listed', accounts=('5WX00001',)).admits('5WX00002')


def test_a_discovering_grant_is_enough_without_an_accounts_section() -> None:
    parsed = parse_config(config(grants=[{'name': 'advisor', 'discover': True}]))
    assert parsed.accounts == () and parsed.configured_accounts() == ()
    with pytest.raises(UnknownAccountError):
        parsed.account('5WX00001')
    assert parsed.including('5WX00001').account('5WX00001').account_number == '5WX00001'


def test_the_json_form_for_lambdas_keeps_the_grants_and_the_except_key() -> None:
    parsed = parse_config(config(grants=[{'name': 'advisor', 'discover': True, 'except': ['5WX00009']}]))
    text = config_to_json(parsed)
    assert '"except":["5WX00009"]' in text
    assert load_config_json(text) == parsed


@pytest.mark.parametrize(
    ('data', 'message'),
    [
        (
            config(grants=[{'name': 'a'}, {'name': 'b'}], accounts=[{'account_number': '5WX01234'}]),
            'accounts: account 5WX01234: which grant reaches it? add grant: <name> to the account or list it under '
            'grants[].accounts (grants: a, b)',
        ),
        (
            config(grants=[{'name': 'a', 'accounts': ['5WX01234']}, {'name': 'b', 'accounts': ['5WX01234']}]),
            "grants: account 5WX01234 is listed by grants 'a' and 'b'",
        ),
        (config(grants=[{'name': 'a'}, {'name': 'a', 'discover': True}]), "grants: grant 'a' is defined twice"),
        (
            config(grants=[{'name': 'a', 'secret': 's'}, {'name': 'b', 'secret': 's', 'discover': True}]),
            "grants: grants 'a' and 'b' use the same secret 's'",
        ),
        (
            config(grants=[{'name': 'a', 'discover': True}], accounts=[{'account_number': '5WX01234', 'grant': 'x'}]),
            "accounts: account 5WX01234: grant 'x' is not defined (grants: a)",
        ),
        (
            config(
                grants=[{'name': 'a', 'accounts': ['5WX01234']}, {'name': 'b', 'discover': True}],
                accounts=[{'account_number': '5WX01234', 'grant': 'b'}],
            ),
            "accounts: account 5WX01234 says grant 'b' but grant 'a' lists it",
        ),
        (
            config(grants=[{'name': 'a', 'except': ['5WX01234']}]),
            'grants[0]: except only applies with discover: true (it removes accounts from the discovered ones)',
        ),
        (config(grants=[{'name': 'a'}]), 'accounts: at least one account is required'),
        (
            config(grants=[{'name': 'a b', 'discover': True}]),
            "grants[0].name: 'a b': string should match pattern '^[A-Za-z0-9][A-Za-z0-9-]{0,31}$'",
        ),
    ],
)
def test_grant_mistakes_are_refused_with_the_fix(data: dict[str, object], message: str) -> None:
    assert problems(data) == [message]


def test_an_unknown_grant_key_suggests_the_right_one() -> None:
    (problem,) = problems(config(grants=[{'name': 'a', 'discovr': True}]))
    assert problem == (
        "grants[0].discovr: unknown setting 'discovr' (did you mean 'discover'?); "
        'allowed here: accounts, discover, except, name, secret'
    )


def test_scale_settings_have_safe_defaults_and_bounds() -> None:
    parsed = parse_config_text('environment: paper\naccounts:\n  - account_number: 5WX01234\n')
    assert (parsed.scale.concurrency, parsed.scale.headroom, parsed.scale.sweep_window_percent) == (5, 0.8, 80)
    with pytest.raises(ConfigError, match='headroom'):
        parse_config(config(accounts=[{'account_number': '5WX01234'}], scale={'headroom': 1.5}))


def test_the_store_keeps_the_same_default_grant_name() -> None:
    assert keys.DEFAULT_GRANT == 'default' == GrantConfig(name='default').name
    assert keys.token_breaker_sk('production') == 'TOKEN#production#BREAKER'  # a deployed breaker stays tripped
    assert keys.token_breaker_sk('production', 'family') == 'TOKEN#production#family#BREAKER'
