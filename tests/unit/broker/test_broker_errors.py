"""Error bodies in every shape the API (and nginx) sends become typed, secret-free errors."""

from __future__ import annotations

import httpx
import pytest

from tastyguard.broker import (
    AmbiguousOrderError,
    ApiMessage,
    AuthenticationError,
    BadRequestError,
    BrokerError,
    MalformedResponseError,
    NotFoundError,
    OrderRejectedError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)
from tastyguard.broker.responses import Redactor, api_error, decode_json, error_fields, unwrap_data, unwrap_items

pytestmark = pytest.mark.unit

REDACT = Redactor(['super-secret-value'])


def response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request('GET', 'https://x.test/p'), **kwargs)  # type: ignore[arg-type]


def error(status: int, *, order_write: bool = False, **kwargs: object) -> BrokerError:
    return api_error(
        response(status, **kwargs),
        method='POST',
        path='/accounts/5WT00001/orders',
        redact=REDACT,
        order_write=order_write,
    )


def test_preflight_failure_keeps_the_nested_codes() -> None:
    body = {
        'error': {
            'code': 'preflight_check_failure',
            'message': 'One or more preflight checks failed',
            'errors': [{'code': 'cant_buy_for_credit', 'message': 'You cannot buy for a credit.'}],
        }
    }
    exc = error(422, json=body, order_write=True)
    assert isinstance(exc, OrderRejectedError)
    assert exc.status == 422 and exc.code == 'preflight_check_failure'
    assert exc.codes == ('preflight_check_failure', 'cant_buy_for_credit')
    assert 'cant_buy_for_credit: You cannot buy for a credit.' in str(exc)
    assert '[POST /accounts/5WT00001/orders]' in str(exc)


def test_validation_errors_with_domain_and_reason() -> None:
    body = {
        'error': {
            'code': 'validation_error',
            'message': 'Request validation failed',
            'errors': [{'domain': 'price', 'reason': 'does not have a valid value'}],
        }
    }
    exc = error(400, json=body)
    assert isinstance(exc, BadRequestError)
    assert exc.errors == (ApiMessage(domain='price', reason='does not have a valid value'),)
    assert 'price: does not have a valid value' in str(exc)


def test_a_422_outside_order_writes_is_a_request_rejection() -> None:
    exc = error(422, json={'error': {'code': 'invalid_symbol', 'message': 'nope'}})
    assert type(exc) is RequestRejectedError


@pytest.mark.parametrize(
    ('status', 'cls'),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (406, BadRequestError),
        (409, BadRequestError),
        (429, RateLimitedError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_status_codes_map_to_typed_errors(status: int, cls: type[BrokerError]) -> None:
    exc = error(status, json={'error': {'code': 'x', 'message': 'y'}})
    assert type(exc) is cls and exc.status == status


def test_integer_error_codes_become_strings() -> None:
    exc = error(406, json={'error': {'code': 406, 'message': 'The requested version is not supported.'}})
    assert exc.code == '406' and exc.hint is not None and 'Accept-Version' in exc.hint


def test_html_401_from_nginx_explains_the_user_agent_rule() -> None:
    html = '<html><head><title>401 Authorization Required</title></head><body><center>nginx</center></body></html>'
    exc = error(401, text=html, headers={'content-type': 'text/html'})
    assert isinstance(exc, AuthenticationError)
    assert "'401 Authorization Required'" in exc.message
    assert exc.hint is not None and 'User-Agent' in exc.hint


def test_oauth_shaped_errors_are_understood() -> None:
    code, message, _ = error_fields(
        response(400, json={'error_code': 'invalid_request', 'error_description': 'User is not a TastyTrade customer'}),
        REDACT,
    )
    assert (code, message) == ('invalid_request', 'User is not a TastyTrade customer')


def test_non_json_and_empty_error_bodies_say_so() -> None:
    assert 'non-JSON error body' in error(502, text='Bad gateway, sorry').message
    assert error(502, content=b'').message == 'empty error body'


def test_secrets_echoed_by_a_server_are_redacted_and_snippets_are_short() -> None:
    exc = error(400, text='oops super-secret-value ' + 'x' * 500)
    assert 'super-secret-value' not in str(exc)
    assert '***' in exc.message and len(exc.message) < 220


def test_decode_json_rejects_html_and_garbage_clearly() -> None:
    with pytest.raises(MalformedResponseError, match='HTML page'):
        decode_json(
            response(200, text='<!DOCTYPE html><html><title>Login</title></html>'),
            method='GET',
            path='/p',
            redact=REDACT,
        )
    with pytest.raises(MalformedResponseError, match='do not parse'):
        decode_json(response(200, text='{"data": {'), method='GET', path='/p', redact=REDACT)


def test_envelope_helpers_name_what_was_expected() -> None:
    with pytest.raises(MalformedResponseError, match='envelope'):
        unwrap_data({'items': []}, method='GET', path='/p')
    with pytest.raises(MalformedResponseError, match='items'):
        unwrap_items({'data': {'thing': 1}}, method='GET', path='/p')
    assert unwrap_items({'data': {'items': [1]}}, method='GET', path='/p') == [1]


def test_ambiguous_order_error_names_the_identifier_to_look_up() -> None:
    exc = AmbiguousOrderError(
        'ReadTimeout', operation='place_order', account_number='5WT00001', external_identifier='tg-abc', status=None
    )
    assert exc.external_identifier == 'tg-abc' and exc.operation == 'place_order'
    assert 'external-identifier=tg-abc' in str(exc) and 'look the order up' in str(exc)
    assert isinstance(exc, BrokerError)


def test_error_repr_is_short_and_typed() -> None:
    exc = error(404, json={'error': {'code': 'record_not_found', 'message': 'Order not found'}})
    assert repr(exc) == "NotFoundError(status=404, code='record_not_found', message='Order not found')"
