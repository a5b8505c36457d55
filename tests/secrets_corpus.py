"""A corpus of planted secrets, in every shape a caller may hand the journal, and its negatives.

Importable data for every test that must show secrets never reach an output (the store,
the spool, logs, and later breaker stats, ``journal status`` and exports):

- `SECRETS`: every planted secret (`Secret.token` is what is planted, `Secret.marker` a
  unique ``S3CRnnnn`` core that any partial leak of the token still shows);
- `PLANTINGS`: ``record_error`` calls (messages, exception texts with their class prefix,
  contexts with every key style and header container, error types and names holding
  registered literals); `plant` makes them through any ``record_error``;
- `other_events`: retry, breaker, alert and journal events, and a ``source``, carrying secrets;
- `NEGATIVES`: ordinary fields that must stay readable; `negative_context`/`negative_message`;
- `leaks(blob)`: the markers found in a text or bytes (the test wants ``[]``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from journal.events import Event, alert_event, breaker_event, error_event, journal_event
from journal.events import retry_event as make_retry
from journal.sanitizing.redaction import register_secret


@dataclass(frozen=True)
class Secret:
    """One planted secret: ``token`` is planted, ``marker`` (``S3CRnnnn``) is searched for."""

    n: int
    shape: str
    token: str

    @property
    def marker(self) -> str:
        return f"S3CR{self.n:04d}"


@dataclass(frozen=True)
class Planting:
    """One ``record_error(error_type, error, context, name=...)`` call carrying secrets."""

    shape: str
    secrets: tuple[Secret, ...]
    error_type: Any = "corpus_error"
    error: Any = None
    context: Any = None
    name: Any = None
    literal: bool = False  # the secrets are registered literals (no key or shape gives them away)


SECRETS: list[Secret] = []
PLANTINGS: list[Planting] = []
_LITERALS: list[str] = []


def _digest(n: int) -> str:
    return hashlib.sha256(f"corpus-{n}".encode()).hexdigest()


def _secret(shape: str, fmt: Callable[[int, str], str] | None = None) -> Secret:
    n = len(SECRETS) + 1
    h = _digest(n)
    token = fmt(n, h) if fmt else f"S3CR{n:04d}x{h[:12]}"
    secret = Secret(n, shape, token)
    SECRETS.append(secret)
    return secret


def _plant(shape: str, build: Callable[[str], dict[str, Any]], *, literal: bool = False) -> None:
    s = _secret(shape)
    if literal:
        _LITERALS.append(s.token)
    PLANTINGS.append(Planting(shape=shape, secrets=(s,), literal=literal, **build(s.token)))


# ---------------------------------------------------------------- messages and exception texts

_MESSAGE_SHAPES: list[tuple[str, Callable[[str], str]]] = [
    ("key=value", lambda t: f"request failed api_key={t} symbol=BTC/USDT"),
    ("secret=", lambda t: f"secret={t}"),
    ("password=", lambda t: f"login refused: password={t}"),
    ("token=", lambda t: f"token={t} expired"),
    ("apiKey: value", lambda t: f"apiKey: {t}"),
    ("X-MBX-APIKEY header", lambda t: f"X-MBX-APIKEY: {t}"),
    ("x-api-key header", lambda t: f"headers sent x-api-key: {t}"),
    ("privateKey=", lambda t: f"privateKey={t}"),
    ("accessKey=", lambda t: f"accessKey={t}"),
    ("access_key=", lambda t: f"access_key={t}"),
    ("aws_access_key_id=", lambda t: f"aws_access_key_id={t}"),
    ("credential=", lambda t: f"credential={t}"),
    ("pass=", lambda t: f"pass={t}"),
    ("pw=", lambda t: f"pw={t}"),
    ("jwt=", lambda t: f"jwt={t}"),
    ("otp=", lambda t: f"otp={t}"),
    ("JSON pair", lambda t: f'body {{"client_secret": "{t}", "symbol": "BTC"}}'),
    ("repr pair", lambda t: f"params {{'refresh_token': '{t}', 'limit': 5}}"),
    ("quoted with spaces", lambda t: f'password="correct horse {t} battery" rejected'),
    ("key => value", lambda t: f"passwd => {t}"),
    ("dotted key", lambda t: f"db.password: {t}"),
    ("camelCase key", lambda t: f"clientSecret={t}"),
    ("SCREAMING key", lambda t: f"AWS_SECRET_ACCESS_KEY={t}"),
    ("Authorization Bearer", lambda t: f"Authorization: Bearer {t}"),
    ("Authorization token", lambda t: f"Authorization: token {t}"),
    ("Authorization Basic", lambda t: f"Authorization: Basic {t}"),
    (
        "Authorization Digest",
        lambda t: f'Authorization: Digest username="bob", realm="api", response="{t}"',
    ),
    ("Proxy-Authorization", lambda t: f"Proxy-Authorization: Basic {t}"),
    (
        "Authorization AWS4",
        lambda t: (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/"
            f"s3/aws4_request, SignedHeaders=host, Signature={t}"
        ),
    ),
    ("Cookie", lambda t: f"Cookie: theme=dark; session={t}; lang=en"),
    ("Set-Cookie", lambda t: f"Set-Cookie: sid={t}; Path=/; HttpOnly"),
    ("?key= query", lambda t: f"GET https://maps.example.com/api?key={t}&symbol=BTC failed"),
    ("?apiKey= query", lambda t: f"GET https://api.example.com/v1/ticker?apiKey={t}"),
    ("URL password", lambda t: f"could not connect to postgresql://app:{t}@db.internal:5432/x"),
    ("URL token as user", lambda t: f"git clone https://{t}@github.com/org/repo.git failed"),
    (
        "S3 presigned signature",
        lambda t: (
            "GET https://b.s3.amazonaws.com/o?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Expires=300&X-Amz-Signature={t}"
        ),
    ),
    (
        "S3 presigned credential",
        lambda t: f"https://b.s3.amazonaws.com/o?X-Amz-Credential={t}%2F20240101%2Fus-east-1",
    ),
    ("S3 security token", lambda t: f"https://b.s3.amazonaws.com/o?X-Amz-Security-Token={t}"),
    ("GCS signature", lambda t: f"https://storage.googleapis.com/b/o?X-Goog-Signature={t}"),
    ("GCS credential", lambda t: f"https://storage.googleapis.com/b/o?X-Goog-Credential={t}"),
    (
        "Azure SAS sig",
        lambda t: f"https://a.blob.core.windows.net/c/b?sv=2022-11-02&se=2030&sp=r&sig={t}",
    ),
    ("bare Bearer", lambda t: f"retrying with Bearer {t}"),
    ("curl command", lambda t: f"curl -H 'Authorization: Bearer {t}' https://api.example.com"),
    (
        "after a non-secret pair",
        lambda t: f"ValueError: symbol=BTC secret={t}",
    ),
]
for _shape, _fmt in _MESSAGE_SHAPES:
    _plant(f"message: {_shape}", lambda t, f=_fmt: {"error": f(t)})  # type: ignore[misc]

# The same texts as exceptions: the journal sees "ValueError: ..." (class name first).
_EXCEPTION_SHAPES: list[tuple[str, Callable[[str], BaseException]]] = [
    ("ValueError api_key=", lambda t: ValueError(f"api_key={t}")),
    ("ValueError secret=", lambda t: ValueError(f"secret={t}")),
    ("ValueError password=", lambda t: ValueError(f"password={t}")),
    ("ValueError token=", lambda t: ValueError(f"token={t}")),
    ("ValueError apiKey:", lambda t: ValueError(f"apiKey: {t}")),
    ("ValueError X-MBX-APIKEY:", lambda t: ValueError(f"X-MBX-APIKEY: {t}")),
    ("KeyError-like", lambda t: KeyError(f"api_key={t}")),
    ("ConnectionError URL", lambda t: ConnectionError(f"https://user:{t}@api.example.com/")),
    ("PermissionError header", lambda t: PermissionError(f"Authorization: Bearer {t}")),
    ("RuntimeError JSON", lambda t: RuntimeError(f'{{"api_secret":"{t}"}}')),
]
for _shape, _make in _EXCEPTION_SHAPES:
    _plant(f"exception: {_shape}", lambda t, m=_make: {"error": m(t)})  # type: ignore[misc]

# Well-known token shapes, in free text with no key name before them.
_TOKEN_SHAPES: list[tuple[str, Callable[[int, str], str]]] = [
    ("JWT", lambda n, h: f"eyJhbGciOiJIUzI1NiJ9.eyJS3CR{n:04d}{h[:10]}.{h[10:30]}"),
    ("Stripe live key", lambda n, h: f"sk_live_S3CR{n:04d}x{h[:16]}"),
    ("Stripe test key", lambda n, h: f"rk_test_S3CR{n:04d}x{h[:16]}"),
    ("AWS key id", lambda n, h: f"AKIAS3CR{n:04d}{h[:8].upper()}"),
    ("GitHub token", lambda n, h: f"ghp_S3CR{n:04d}x{h[:24]}"),
    ("GitHub fine-grained", lambda n, h: f"github_pat_S3CR{n:04d}x{h[:24]}"),
    ("Slack token", lambda n, h: f"xoxb-S3CR{n:04d}-{h[:16]}"),
    ("Google API key", lambda n, h: f"AIzaS3CR{n:04d}x{h[:30]}"),
    ("Stripe webhook secret", lambda n, h: f"whsec_S3CR{n:04d}x{h[:16]}"),
]
for _shape, _tfmt in _TOKEN_SHAPES:
    _s = _secret(f"token shape: {_shape}", _tfmt)
    PLANTINGS.append(
        Planting(f"token shape: {_shape}", (_s,), error=f"upstream said {_s.token} is invalid")
    )
_s = _secret("PEM private key")
PLANTINGS.append(
    Planting(
        "PEM private key",
        (_s,),
        error=f"bad key -----BEGIN RSA PRIVATE KEY-----\nMIIE{_s.token}\n-----END RSA PRIVATE KEY-----",
    )
)

# ---------------------------------------------------------------- contexts

_CONTEXT_KEYS = [
    "api_key", "apiKey", "X-MBX-APIKEY", "x-api-key", "privateKey", "accessKey", "access_key",
    "aws_access_key_id", "credential", "credentials", "pass", "pw", "pwd", "jwt", "otp",
    "client.secret", "Client-Secret", "SESSION_TOKEN", "sessionId", "signature", "sig",
    "cookie", "Set-Cookie", "Authorization", "passphrase", "hmac_key", "csrf_token",
    "private_key_id", "refreshToken", "auth",
]  # fmt: skip
for _key in _CONTEXT_KEYS:
    _plant(f"context key {_key}", lambda t, k=_key: {"context": {"symbol": "BTC", k: t}})  # type: ignore[misc]

_CONTAINER_SHAPES: list[tuple[str, Callable[[str], Any]]] = [
    ("nested headers dict", lambda t: {"request": {"headers": {"Authorization": f"Bearer {t}"}}}),
    (
        "header list of tuples",
        lambda t: {"headers": [("Accept", "application/json"), ("Authorization", f"Bearer {t}")]},
    ),
    ("header list of lists", lambda t: {"headers": [["X-Api-Key", t], ["Accept", "json"]]}),
    ("header tuple of tuples", lambda t: {"headers": (("Cookie", f"a=1; sid={t}"),)}),
    (
        "name/value header records",
        lambda t: {"headers": [{"name": "Authorization", "value": f"token {t}"}]},
    ),
    ("key/value header records", lambda t: {"params": [{"key": "X-Api-Key", "value": t}]}),
    ("URL value with ?key=", lambda t: {"url": f"https://x.example.com/v1?key={t}&limit=5"}),
    ("message value with class prefix", lambda t: {"detail": f"ValueError: secret={t}"}),
    ("curl value", lambda t: {"cmd": f"curl -H 'Cookie: session={t}' https://x.example.com"}),
    ("list of texts", lambda t: {"lines": ["ok", f"password: {t}"]}),
    ("deep secret key", lambda t: {"a": {"b": {"c": {"client_secret": t}}}}),
]
for _shape, _cfmt in _CONTAINER_SHAPES:
    _plant(f"context: {_shape}", lambda t, f=_cfmt: {"context": f(t)})  # type: ignore[misc]

# ---------------------------------------------------------------- registered literals

_LITERAL_SHAPES: list[tuple[str, Callable[[str], dict[str, Any]]]] = [
    ("literal in free text", lambda t: {"error": f"connection to {t} refused"}),
    ("literal in an exception", lambda t: {"error": OSError(f"cannot reach {t}")}),
    ("literal as context key", lambda t: {"context": {t: "value"}}),
    ("literal deep in context", lambda t: {"context": {"a": {"b": [f"x{t}y"]}}}),
    ("literal in error type", lambda t: {"error_type": f"err_{t}"}),
    ("literal in name", lambda t: {"name": f"endpoint_{t}"}),
    ("literal in a class as error type", lambda t: {"error_type": type(f"Err{t}", (), {})}),
]
for _shape, _lfmt in _LITERAL_SHAPES:
    _plant(_shape, _lfmt, literal=True)


# ---------------------------------------------------------------- other event kinds


@dataclass(frozen=True)
class _Other:
    shape: str
    secrets: tuple[Secret, ...]
    build: Callable[[], Event] = field(repr=False)


OTHERS: list[_Other] = []


def _other(shape: str, build: Callable[[str], Event], *, literal: bool = False) -> None:
    s = _secret(shape)
    if literal:
        _LITERALS.append(s.token)
    OTHERS.append(_Other(shape, (s,), lambda: build(s.token)))


_other(
    "retry message and context",
    lambda t: make_retry("fetch", 1, 0.5, error_type="TimeoutError", message=f"token={t}"),
)
_other(
    "retry context header",
    lambda t: make_retry("fetch", 2, 1.0, context={"headers": {"X-Api-Key": t}}),
)
_other(
    "breaker message",
    lambda t: breaker_event("binance", "CLOSED", "OPEN", message=f"ValueError: password={t}"),
)
_other(
    "breaker context",
    lambda t: breaker_event("binance", "OPEN", "HALF_OPEN", context={"secret": t}),
)
_other("breaker name literal", lambda t: breaker_event(f"b_{t}", "CLOSED", "OPEN"), literal=True)
_other("alert message", lambda t: alert_event("error_rate", "binance", f"api_key={t} leaked"))
_other(
    "alert context",
    lambda t: alert_event("error_rate", "binance", "rate high", context={"apiKey": t}),
)
_other("alert key literal", lambda t: alert_event("rule", f"k_{t}", "fired"), literal=True)
_other("source literal", lambda t: error_event("e", "m", source=f"host-{t}:1"), literal=True)
_other(
    "journal event message",
    lambda t: journal_event("store_unavailable", f"postgresql://u:{t}@db/x unreachable"),
)


def register_literals() -> None:
    """Register the literal-shaped secrets (idempotent)."""
    for token in _LITERALS:
        register_secret(token)


def plant(record_error: Callable[..., Any]) -> list[Any]:
    """Make every planting through ``record_error(error_type, error, context, name=...)``."""
    register_literals()
    out = []
    for p in PLANTINGS:
        kwargs = {"name": p.name} if p.name is not None else {}
        out.append(record_error(p.error_type, p.error, p.context, **kwargs))
    return out


def other_events() -> list[Event]:
    """Retry, breaker, alert and journal events carrying secrets (literals registered first)."""
    register_literals()
    return [o.build() for o in OTHERS]


# ---------------------------------------------------------------- negatives

NEGATIVES: dict[str, Any] = {
    "symbol": "BTC/USDT",
    "timeframe": "1h",
    "order_id": "ord-778899",
    "passage": "opening-passage",
    "passage_id": "p-4411",
    "limit": 500,
    "since": "2024-01-01T00:00:00Z",
    "interval": "15m",
    "monkey": "george",
    "author": "alice-writer",
    "authority": "registry-ca",
    "keyboard": "qwerty-layout",
    "hotpot": "sichuan-style",
    "cache_key": "ohlcv:BTC:1h",
    "max_tokens": 4096,
    "exchange": "binance",
    # Last: in `negative_message` the word after "Bearer" would be taken for a bearer token.
    "token_type": "Bearer",
}


def negative_context() -> dict[str, Any]:
    """Ordinary fields that must come back unchanged."""
    return dict(NEGATIVES)


def negative_message() -> str:
    """A message of ordinary ``key=value`` pairs that must come back unchanged."""
    return " ".join(f"{k}={v}" for k, v in NEGATIVES.items())


def markers() -> Iterator[str]:
    """Every secret's marker."""
    return (s.marker for s in SECRETS)


def leaks(blob: bytes | str) -> list[str]:
    """The planted secrets found in ``blob`` (by marker, so partial leaks count too)."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [s.shape for s in SECRETS if s.marker in text or s.token in text]
