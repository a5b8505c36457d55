"""Redaction rules as data: each text rule and each key-name decision has its rows here."""

from __future__ import annotations

import logging

import pytest

from journal.sanitizing.redaction import (
    KEY_HINTS,
    REDACTED,
    RULES,
    SECRET_INFIXES,
    SECRET_PREFIXES,
    SECRET_SUFFIXES,
    SECRET_WORDS,
    RedactingFilter,
    SecretTooShortError,
    add_secret_key,
    is_secret_key,
    key_words,
    redact_text,
    redact_url,
    register_secret,
)

SECRET = "Zq8vLx2mTn4p"  # the value planted in every row

# rule name -> (text with SECRET planted, text that must survive)
RULE_ROWS: dict[str, list[tuple[str, str]]] = {
    "private_key_block": [
        (f"-----BEGIN PRIVATE KEY-----\nMII{SECRET}\n-----END PRIVATE KEY----- ok", " ok"),
        (f"clipped -----BEGIN EC PRIVATE KEY-----\n{SECRET}", "clipped "),
    ],
    "authorization_header": [
        (f"Authorization: Bearer {SECRET}", "Authorization: "),
        (f"authorization: token {SECRET}", "authorization: "),
        (f"Authorization: Basic {SECRET}\nnext line", "\nnext line"),
        (f'Authorization: Digest username="bob", response="{SECRET}"', "Authorization"),
        (f"Proxy-Authorization: Negotiate {SECRET}", "Proxy-Authorization"),
        (f'{{"Authorization": "Bearer a {SECRET}", "x": 1}}', '"x": 1'),
        (f"Authorization: AWS4-HMAC-SHA256 Credential=A/1, Signature={SECRET}", "Authoriz"),
    ],
    "cookie_header": [
        (f"Cookie: theme=dark; sid={SECRET}", "Cookie: "),
        (f"Set-Cookie: session={SECRET}; Path=/; HttpOnly", "Set-Cookie"),
        (f"'cookies': {{'sid': '{SECRET}'}}", "cookies"),
    ],
    "url_userinfo": [
        (f"postgresql://app:{SECRET}@db:5432/x", "postgresql://app:"),
        (f"https://{SECRET}@github.com/org/repo", "@github.com/org/repo"),
        (f"https://{SECRET}longer:x-oauth-basic@github.com/", "@github.com/"),
    ],
    "name_value_record": [
        (f"{{'name': 'Authorization', 'value': 'token {SECRET}'}}", "'name': 'Authorization'"),
        (f'{{"key": "X-Api-Key", "value": "{SECRET}"}}', '"value": '),
    ],
    "secret_pair": [
        (f"api_key={SECRET}&symbol=BTC", "&symbol=BTC"),
        (f"ValueError: api_key={SECRET}", "ValueError: api_key="),
        (f"ValueError: secret={SECRET}", "ValueError: "),
        (f"KeyError: apiKey: {SECRET}", "KeyError: "),
        (f"X-MBX-APIKEY: {SECRET}", "X-MBX-APIKEY: "),
        (f'password="correct horse {SECRET}" rest', " rest"),
        (f"passwd => {SECRET}", "passwd => "),
        (f'{{"client_secret": "{SECRET}"}}', '"client_secret": "'),
        (f"?key={SECRET}&limit=5", "&limit=5"),
        (f"X-Amz-Signature={SECRET}&X-Amz-Expires=30", "&X-Amz-Expires=30"),
        (f"X-Goog-Credential={SECRET}", "X-Goog-Credential="),
        (f"sv=2022&sig={SECRET}&se=2030", "&se=2030"),
        (f"secrets: ['{SECRET}', 'b'] end", " end"),
        (f"pw={SECRET}", "pw="),
    ],
    "quoted_pair": [
        (f"[('Accept', 'json'), ('X-Api-Key', '{SECRET}')]", "('Accept', 'json')"),
        (f'["token", "{SECRET}"]', '["token", '),
    ],
    "auth_scheme": [
        (f"retrying with Bearer {SECRET}", "retrying with Bearer "),
        (f"sent basic {SECRET}", "sent basic "),
    ],
    "token_shapes": [
        (f"jwt eyJhbGciOiJIUzI1NiJ9.eyJ{SECRET}.sig123", "jwt "),
        (f"key sk_live_{SECRET}", "key "),
        (f"id AKIA{SECRET.upper()}ABCD", "id "),
        (f"pushed with ghp_{SECRET}{SECRET}", "pushed with "),
        (f"slack xoxb-{SECRET}-1", "slack "),
        (f"google AIza{SECRET}{SECRET}{SECRET}", "google "),
    ],
}


def test_every_rule_has_rows_and_a_description() -> None:
    assert {r.name for r in RULES} == set(RULE_ROWS)
    for rule in RULES:
        assert rule.catches and rule.hints


@pytest.mark.parametrize(
    ("rule", "text", "kept"),
    [(rule, text, kept) for rule, rows in RULE_ROWS.items() for text, kept in rows],
)
def test_rule_scrubs_its_shape(rule: str, text: str, kept: str) -> None:
    out = redact_text(text)
    assert SECRET not in out, rule
    assert REDACTED in out
    assert kept in out
    assert redact_text(out) == out  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "symbol=BTC/USDT timeframe=1h order_id=42 limit=500 since=2024-01-01 interval=1m",
        "passage=intro monkey=george author=bob authority=ca keyboard=qwerty hotpot=spicy",
        "KeyError: 'symbol'",
        "AuthenticationError: binance rejected the request",
        "Basic authentication failed for user bob",
        "GET https://api.binance.com/api/v3/klines?symbol=SOLUSDT&startTime=1700000000000",
        "postgresql://postgres@127.0.0.1:5432/test",
        "token_type=Bearer",
        "cache_key=ohlcv max_tokens=4096",
        "10:30:00 connection reset (errno 104)",
    ],
)
def test_ordinary_text_stays_readable(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "key",
    [
        "api_key", "apiKey", "APIKey", "X-MBX-APIKEY", "x-api-key", "privateKey", "accessKey",
        "access_key", "aws_access_key_id", "AWS_SECRET_ACCESS_KEY", "credential", "credentials",
        "pass", "pw", "pwd", "passwd", "password", "PGPASSWORD", "passphrase", "jwt", "otp",
        "totp", "token", "refreshToken", "auth", "Authorization", "Proxy-Authorization",
        "oauth", "signature", "sig", "X-Amz-Signature", "cookie", "Set-Cookie", "session",
        "sessionId", "client.secret", "clientsecret", "private", "hmac", "csrf_token", "key",
    ],
)  # fmt: skip
def test_secret_key_names(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "symbol", "timeframe", "order_id", "passage", "passage_id", "keyboard", "keyword",
        "monkey", "author", "authority", "hotpot", "limit", "since", "interval", "upward",
        "token_type", "KeyError", "password_length", "auth_url", "cache_key", "max_tokens",
        "signal", "exchange", "name", "value",
    ],
)  # fmt: skip
def test_ordinary_key_names(key: str) -> None:
    assert not is_secret_key(key)


def test_keys_split_on_separators_and_camel_case() -> None:
    assert key_words("X-MBX-APIKEY") == ["x", "mbx", "apikey"]
    assert key_words("privateKey") == ["private", "key"]
    assert key_words("APIKey") == ["api", "key"]
    assert key_words("aws_access_key_id") == ["aws", "access", "key", "id"]
    assert key_words("client.secret") == ["client", "secret"]


def test_every_secret_word_and_affix_is_covered_by_a_text_hint() -> None:
    # A key the judge would call secret must wake the key=value scan.
    for word in (*SECRET_WORDS, *SECRET_INFIXES, *SECRET_PREFIXES, *SECRET_SUFFIXES):
        assert any(h in word for h in KEY_HINTS), word


def test_register_secret_refuses_short_literals_and_ignores_none() -> None:
    with pytest.raises(SecretTooShortError, match="8 to"):
        register_secret("abc123")
    with pytest.raises(ValueError):
        register_secret("1234567")
    register_secret(None)
    register_secret("")


def test_registered_literal_and_its_url_encoded_form_are_scrubbed() -> None:
    register_secret("lit/eral+Secret 01")
    out = redact_text("a lit/eral+Secret 01 b lit%2Feral%2BSecret%2001 c")
    assert "eral" not in out and out.startswith("a ") and out.endswith(" c")


def test_add_secret_key_extends_the_judge_and_the_text_scan() -> None:
    assert redact_text("nonce_value=abcdef123") == "nonce_value=abcdef123"
    add_secret_key("nonce_value")
    assert is_secret_key("Nonce_Value")
    assert redact_text("nonce_value=abcdef123") == f"nonce_value={REDACTED}"


def test_redact_url_hides_userinfo_and_secret_parameters() -> None:
    url = f"https://u:{SECRET}@h.example.com/p?token={SECRET}&page=2"
    out = redact_url(url)
    assert SECRET not in out and "page=2" in out and "h.example.com/p" in out


def test_texts_differing_only_in_digits_share_a_decision_but_keep_their_own_literals() -> None:
    register_secret("digits-99887766")
    assert redact_text("order 11 failed") == "order 11 failed"
    assert (
        redact_text("order 99887766 failed digits-99887766") == f"order 99887766 failed {REDACTED}"
    )


def test_redacting_filter_scrubs_message_args_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("test.redaction")
    f = RedactingFilter()
    caplog.handler.addFilter(f)
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            log.info("calling %s with %r", f"https://x?key={SECRET}", {"api_key": SECRET})
            try:
                raise ValueError(f"password={SECRET}")
            except ValueError:
                log.exception("boom %d", 3)
            log.info("bad format %d", "not a number")  # getMessage raises: still kept
    finally:
        caplog.handler.removeFilter(f)
    assert SECRET not in caplog.text
    assert "calling https://x?key=" in caplog.text and "boom 3" in caplog.text
    assert "ValueError: password=" in caplog.text
    assert len(caplog.records) == 3


def test_what_the_library_logs_is_scrubbed_before_any_handler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from journal.alerting import sinks
    from journal.process import bus, emitter
    from journal.resilience import breaker, tracker
    from journal.writing import spool, writer

    secret = "Zq8sLogSecret771"
    with caplog.at_level(logging.INFO):
        for module in (breaker, bus, emitter, sinks, spool, tracker, writer):
            module.log.warning("cannot reach https://u:%s@h/x?api_key=%s", secret, secret)
            try:
                raise ValueError(f"password={secret}")
            except ValueError:
                module.log.exception("failed")
    assert caplog.records and secret not in caplog.text
    assert all(secret not in (r.exc_text or "") for r in caplog.records)
