"""Secrets never reach the journal: one place that scrubs keys and text.

`redact_context` replaces values under secret-looking keys; `redact_text` scrubs
``key=value`` / ``key: value`` pairs, bearer tokens, URL credentials and any literal
secret registered with `register_secret` (the collector registers its API key and
secret). Extend with `add_secret_key`.
"""

from __future__ import annotations

import re
import threading
from typing import Any

REDACTED = "***REDACTED***"

_lock = threading.Lock()
_secret_keys: set[str] = {
    "api_key",
    "apikey",
    "api-key",
    "x-mbx-apikey",
    "secret",
    "api_secret",
    "secret_key",
    "client_secret",
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "signature",
    "sig",
    "token",
    "access_token",
    "refresh_token",
    "auth",
    "authorization",
    "private_key",
    "credentials",
    "cookie",
    "session_key",
}
_key_fragments = (
    "secret",
    "password",
    "passwd",
    "token",
    "apikey",
    "api_key",
    "signature",
    "private_key",
)
_literals: set[str] = set()
_literal_re: re.Pattern[str] | None = None
_MIN_LITERAL = 6


def _build_pair_re() -> re.Pattern[str]:
    keys = sorted(
        _secret_keys | {"secret", "password", "signature", "token"}, key=len, reverse=True
    )
    names = "|".join(re.escape(k) for k in keys)
    # key=value, key: value, "key": "value", key=value& in query strings
    return re.compile(
        rf"""(?ix)
        (?P<key>["']?(?:[\w-]*?(?:{names}))["']?)
        (?P<sep>\s*[=:]\s*)
        (?P<q>["']?)
        (?P<val>[^\s"'&,;}}\]]+)
        """
    )


_pair_re = _build_pair_re()
_bearer_re = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_url_cred_re = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@")


def is_secret_key(key: str) -> bool:
    """Does a context key look like it holds a secret?"""
    k = key.strip().lower()
    if k in _secret_keys:
        return True
    return any(f in k for f in _key_fragments)


def add_secret_key(key: str) -> None:
    """Treat values under ``key`` (case-insensitive) as secrets from now on."""
    global _pair_re
    with _lock:
        _secret_keys.add(key.strip().lower())
        _pair_re = _build_pair_re()


def register_secret(value: str | None) -> None:
    """Scrub this literal value wherever it appears in messages and context."""
    global _literal_re
    if not value or len(value) < _MIN_LITERAL:
        return
    with _lock:
        _literals.add(value)
        alternatives = "|".join(re.escape(v) for v in sorted(_literals, key=len, reverse=True))
        _literal_re = re.compile(alternatives)


def redact_text(text: str) -> str:
    """Scrub secrets out of free text (messages, exception text, URLs)."""
    if not text:
        return text
    lit = _literal_re
    if lit is not None:
        text = lit.sub(REDACTED, text)
    if "=" in text or ":" in text:
        text = _pair_re.sub(lambda m: f"{m['key']}{m['sep']}{m['q']}{REDACTED}", text)
        if "@" in text:
            text = _url_cred_re.sub(lambda m: f"{m[1]}{m[2]}:{REDACTED}@", text)
    if " " in text:
        text = _bearer_re.sub(lambda m: f"{m[1]} {REDACTED}", text)
    return text


def redact_context(value: Any) -> Any:
    """Recursively redact a JSON-safe structure: secret keys lose their values, text is scrubbed."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if (v is not None and v != "" and is_secret_key(k)) else redact_context(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_context(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
