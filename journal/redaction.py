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
# Text is scanned for key=value pairs only if it mentions one of these (cheap pre-check).
_text_fragments: set[str] = {
    "key",
    "secret",
    "pass",
    "pwd",
    "sig",
    "token",
    "auth",
    "credential",
    "cookie",
}
_literals: set[str] = set()
_MIN_LITERAL = 6

# Any `key=value` / `key: value` / `"key": "value"`; the callback decides if the key is secret.
_pair_re = re.compile(
    r"""(?P<key>["']?(?P<k>[A-Za-z_][\w.-]{0,63})["']?)(?P<sep>\s*[=:]\s*)(?P<q>["']?)(?P<val>[^\s"'&,;}\]]+)"""
)
_bearer_re = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_url_cred_re = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@")


_key_verdicts: dict[str, bool] = {}


def is_secret_key(key: str) -> bool:
    """Does a context key look like it holds a secret? (cached: keys repeat)"""
    verdict = _key_verdicts.get(key)
    if verdict is None:
        k = key.strip().lower()
        verdict = k in _secret_keys or any(f in k for f in _key_fragments)
        if len(_key_verdicts) > 10_000:
            _key_verdicts.clear()
        _key_verdicts[key] = verdict
    return verdict


def add_secret_key(key: str) -> None:
    """Treat values under ``key`` (case-insensitive) as secrets from now on."""
    with _lock:
        k = key.strip().lower()
        _secret_keys.add(k)
        _text_fragments.add(k)
        _key_verdicts.clear()
        _text_cache.clear()


def register_secret(value: str | None) -> None:
    """Scrub this literal value wherever it appears in messages and context."""
    if not value or len(value) < _MIN_LITERAL:
        return
    with _lock:
        _literals.add(value)
        _text_cache.clear()


def _pair(m: re.Match[str]) -> str:
    if not is_secret_key(m["k"]):
        # "failed: password=x" matches as key "failed": scan its value for pairs too.
        val = m["val"]
        if "=" in val or ":" in val:
            return m[0][: m.start("val") - m.start()] + _pair_re.sub(_pair, val)
        return m[0]
    return f"{m['key']}{m['sep']}{m['q']}{REDACTED}"


_text_cache: dict[str, str] = {}
_CACHE_MAX_ENTRIES = 4096
_CACHE_MAX_CHARS = 256


def redact_text(text: str) -> str:
    """Scrub secrets out of free text (messages, exception text, URLs). Short texts are cached."""
    if not text or len(text) < 6:
        return text
    if len(text) <= _CACHE_MAX_CHARS:
        hit = _text_cache.get(text)
        if hit is None:
            hit = _redact_text(text)
            if len(_text_cache) >= _CACHE_MAX_ENTRIES:
                _text_cache.clear()
            _text_cache[text] = hit
        return hit
    return _redact_text(text)


def _redact_text(text: str) -> str:
    if _literals:
        for secret in sorted(_literals, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
    lowered = text.lower()
    if ("=" in text or ":" in text) and any(f in lowered for f in _text_fragments):
        text = _pair_re.sub(_pair, text)
    if "@" in text and "://" in text:
        text = _url_cred_re.sub(lambda m: f"{m[1]}{m[2]}:{REDACTED}@", text)
    if ("bearer" in lowered or "basic" in lowered) and " " in text:
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
