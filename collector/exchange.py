"""How the collector builds its ccxt client: production Binance USD-M, testnet, or a local URL.

``make_exchange()`` is the only place that constructs ``ccxt.async_support.binanceusdm``. The
options are the ones the hardened client relies on: no currency fetch (it would reach the spot
API with keys set), linear markets only, no implicit clock sync, no ccxt-internal retries (we own
retrying), and ``close()`` without its 250 ms sleep.

With ``base_url`` (e.g. the local fake, ``http://127.0.0.1:PORT``) every host in
``exchange.urls['api']`` is rewritten to it, so no request can escape to the internet, and a seam
maps the local URL back to the production host when ccxt picks its per-market error table
(``get_exceptions_by_url``); without it the linear-only codes such as -1008 would surface as a
plain ``ExchangeError`` instead of ``OperationFailed``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import ccxt.async_support as ccxt_async

# The production host each API path family lives on (ccxt builds URLs as host + "/" + path).
PRODUCTION_HOSTS: dict[str, str] = {
    "/fapi/": "https://fapi.binance.com",
    "/futures/data/": "https://fapi.binance.com",
    "/dapi/": "https://dapi.binance.com",
    "/eapi/": "https://eapi.binance.com",
    "/papi/": "https://papi.binance.com",
    "/sapi/": "https://api.binance.com",
    "/api/": "https://api.binance.com",
}
DEFAULT_PRODUCTION_HOST = "https://fapi.binance.com"

_HOST_RE = re.compile(r"^https?://[^/]+")


def validate_base_url(base_url: str) -> str:
    """Return ``base_url`` without a trailing slash; ValueError unless it is http(s)://host[:port]."""
    url = base_url.rstrip("/")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    except ValueError as exc:
        raise ValueError(f"base_url {base_url!r} is not http(s)://host[:port]: {exc}") from None
    del port
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        raise ValueError(
            f"base_url {base_url!r} must be http(s)://host[:port] with no path, query or credentials"
        )
    return url


def production_url(url: str, base_url: str) -> str:
    """Map a URL on ``base_url`` back to the production Binance host serving that path."""
    if not url.startswith(base_url):
        return url
    rest = url[len(base_url) :]
    for prefix, host in PRODUCTION_HOSTS.items():
        if rest.startswith(prefix):
            return host + rest
    return DEFAULT_PRODUCTION_HOST + rest


def make_exchange(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    api_secret: str | None = None,
    testnet: bool = False,
    timeout_ms: int = 10_000,
    enable_rate_limit: bool = True,
    session: Any = None,
) -> Any:
    """Build a ``ccxt.async_support.binanceusdm`` client; the caller must ``await ex.close()``."""
    if base_url is not None:
        base_url = validate_base_url(base_url)
    config: dict[str, Any] = {
        "enableRateLimit": enable_rate_limit,
        "timeout": timeout_ms,
        "options": {
            "fetchCurrencies": False,
            "fetchMarkets": {"types": ["linear"]},
            "adjustForTimeDifference": False,
            "maxRetriesOnFailure": 0,
        },
    }
    if api_key is not None:
        config["apiKey"] = api_key
    if api_secret is not None:
        config["secret"] = api_secret
    if session is not None:
        config["session"] = session
    ex = ccxt_async.binanceusdm(config)
    ex.verbose = False
    ex.timeout_on_exit = 0
    if testnet:
        ex.set_sandbox_mode(True)
    if base_url is not None:
        _point_at(ex, base_url)
    return ex


def _point_at(ex: Any, base_url: str) -> None:
    """Rewrite every API host to ``base_url`` and install the error-table seam."""
    api = ex.urls["api"]
    for key, value in list(api.items()):
        if isinstance(value, str):
            api[key] = _HOST_RE.sub(lambda _m: base_url, value, count=1)
    real = type(ex).get_exceptions_by_url

    def get_exceptions_by_url(url: str | None, exact_or_broad: str) -> Any:
        return real(ex, production_url(url, base_url) if url else url, exact_or_broad)

    ex.get_exceptions_by_url = get_exceptions_by_url
