"""Secrets never reach the journal: the one place that decides what is a secret.

Two judgements, both data you can read and extend:

- **Key names** (`is_secret_key`): a context key, header name or ``key=value`` key holds a
  secret when one of its *words* is a credential word. Keys are split into words on
  separators and camelCase (``X-MBX-APIKEY`` -> x, mbx, apikey; ``privateKey`` -> private,
  key), so ``passage``, ``keyboard``, ``monkey``, ``author`` or ``hotpot`` stay readable while
  ``apiKey``, ``aws_access_key_id``, ``pw`` or ``Set-Cookie`` do not. `SECRET_WORDS`,
  `SECRET_INFIXES`, `SECRET_PREFIXES`, `SECRET_SUFFIXES`, `ALLOWED_WORDS`, `ALLOWED_KEYS` and
  `NEUTRAL_TAILS` are the rule, `add_secret_key` extends it.
- **Text** (`redact_text`): `RULES`, a table of named regular expressions, each with the
  hints that must appear (lower-cased) for it to run, so a text with no hint costs one scan.
  Literal secrets registered with `register_secret` (API keys, webhook URLs, passwords) are
  scrubbed first, wherever they appear.

`redact_url` hides URL credentials; `RedactingFilter` scrubs log records. Every text field
of every event (message, context keys and values, error type, name, source) passes through
`redact_text` in `journal.events`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from journal.errors import JournalError
from journal.sanitizing.safetext import safe_str

REDACTED = "***REDACTED***"
# A literal shorter than this would match ordinary words and numbers, masking them (and
# telling a reader where the secret occurs); 8 is also the shortest password NIST SP 800-63B
# allows. Longer literals are what API keys, tokens and webhook URLs look like.
MIN_SECRET_CHARS = 8
MAX_SECRET_CHARS = 4096


class SecretTooShortError(JournalError, ValueError):
    """`register_secret` was given a literal too short (or too long) to scrub reliably."""


# ---------------------------------------------------------------- key names

# A key word equal to one of these holds a secret.
SECRET_WORDS = frozenset(
    {
        "key", "keys", "apikey", "secret", "secrets", "token", "tokens", "pass", "passwd",
        "password", "passwords", "passphrase", "passcode", "pwd", "pw", "auth", "credential",
        "credentials", "cred", "creds", "signature", "sig", "cookie", "cookies", "session",
        "jwt", "otp", "totp", "hotp", "private", "hmac", "csrf", "xsrf",
    }
)  # fmt: skip
# A word containing one of these anywhere (fused words: ``clientsecret``, ``dbpassword``).
SECRET_INFIXES = (
    "secret", "token", "passw", "passphrase", "passcode", "credential", "signature",
    "cookie", "jwt", "apikey", "hmac", "pwd",
)  # fmt: skip
# A word starting with one of these (``authorization``, ``sessionid``, ``otpcode``).
SECRET_PREFIXES = ("auth", "session", "otp", "private")
# A word ending with one of these (``accesskey``, ``xmbxapikey``, ``oauth``, ``totp``).
SECRET_SUFFIXES = ("key", "auth", "otp")
# Words that match the affixes above by accident.
ALLOWED_WORDS = frozenset(
    {
        "monkey", "donkey", "turkey", "hockey", "jockey", "whiskey", "lackey", "author",
        "authors", "authored", "authoring", "authorship", "authority", "authorities",
        "authoritative", "secretary", "secretaries", "secretariat", "tokenizer", "tokenize",
        "tokenized",
    }
)  # fmt: skip
# Whole keys (words joined by "_") that name ordinary data although a word is a credential word.
ALLOWED_KEYS = frozenset(
    {
        "cache_key", "sort_key", "partition_key", "primary_key", "foreign_key", "routing_key",
        "idempotency_key", "dedup_key", "dedupe_key", "group_key", "lookup_key", "max_tokens",
        "key_error",
    }
)  # fmt: skip
# A key whose last word is one of these describes a credential without holding it
# (``token_type``, ``KeyError``, ``password_length``, ``auth_url``).
NEUTRAL_TAILS = frozenset(
    {
        "error", "errors", "exception", "warning", "type", "count", "length", "len", "expired",
        "expires", "expiry", "ttl", "url", "uri", "endpoint", "host", "path", "file",
        "enabled", "required", "missing", "invalid", "format", "algorithm", "alg", "scheme",
        "version",
    }
)  # fmt: skip
# Every word above contains one of these: a text without any skips the key=value scan.
KEY_HINTS = (
    "key", "secret", "token", "pass", "pw", "auth", "cred", "sig", "cookie", "session",
    "jwt", "otp", "priv", "hmac", "csrf", "xsrf",
)  # fmt: skip

_lock = threading.Lock()
_extra_keys: set[str] = set()
_words_re = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_key_verdicts: dict[str, bool] = {}


def key_words(key: str) -> list[str]:
    """The lower-cased words of a key: split on separators and camelCase."""
    return [w.lower() for w in _words_re.findall(key)]


def _judge_key(key: str) -> bool:
    if key.strip().lower() in _extra_keys:
        return True
    words = key_words(key)
    if not words or "_".join(words) in ALLOWED_KEYS:
        return False
    if len(words) > 1 and words[-1] in NEUTRAL_TAILS:
        return False
    for w in words:
        if w in ALLOWED_WORDS:
            continue
        if (
            w in SECRET_WORDS
            or w.startswith(SECRET_PREFIXES)
            or w.endswith(SECRET_SUFFIXES)
            or any(f in w for f in SECRET_INFIXES)
        ):
            return True
    return False


def is_secret_key(key: str) -> bool:
    """Does a key (context key, header name, ``key=value`` key) name a secret? Cached."""
    verdict = _key_verdicts.get(key)
    if verdict is None:
        verdict = _judge_key(key)
        if len(_key_verdicts) >= 10_000:
            _key_verdicts.clear()
        _key_verdicts[key] = verdict
    return verdict


# ---------------------------------------------------------------- text rules


@dataclass(frozen=True, slots=True)
class Rule:
    """A named text rule: runs when a hint occurs in the lower-cased text."""

    name: str
    catches: str
    hints: tuple[str, ...]
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str]


# A value: double- or single-quoted (spaces allowed, backslash escapes), or a bare run.
_QUOTED = r""""(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'"""
_BARE = r"""[^\s"'&,;{}\[\]<>]+"""
# A one-level list or mapping after a secret key ("secrets: ['a', 'b']"): all of it goes.
_BRACKETED = r"\[[^\[\]]*\]|\{[^{}]*\}"
# A header value runs to the end of the line (schemes, cookie lists and Digest params have spaces).
_TO_EOL = r"[^\r\n]+"
_SEP = r"""\\?["']?\s*(?:=>|[=:])\s*"""


def _keep_quotes(value: str) -> str:
    if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        return f"{value[0]}{REDACTED}{value[0]}"
    return REDACTED


def _header(m: re.Match[str]) -> str:
    return f"{m['head']}{_keep_quotes(m['val'])}"


def _scheme(m: re.Match[str]) -> str:
    return f"{m['scheme']} {REDACTED}"


def _looks_like_token(user: str) -> bool:
    # "postgres", "git", "admin" stay readable; a long or alphanumeric user is a credential.
    return len(user) >= 12 or (len(user) >= 8 and any(c.isdigit() for c in user))


def _userinfo(m: re.Match[str]) -> str:
    user, pw = m["user"], m["pw"]
    shown = REDACTED if _looks_like_token(user) else user
    if pw is None:
        return f"{m['scheme']}{shown}@"
    return f"{m['scheme']}{shown}:{REDACTED}@"


def _whole(m: re.Match[str]) -> str:
    return REDACTED


_TOKEN_HINTS = (
    "eyj", "k_live_", "k_test_", "whsec_", "akia", "asia", "ghp_", "gho_", "ghu_", "ghs_",
    "ghr_", "github_pat_", "xox", "aiza",
)  # fmt: skip

# Pairs are found from their separators: the text is scanned *reversed*, so the pattern
# starts with the separator (=, :, =>) and `re` skips straight from one to the next; the
# key is the run of word characters before it. Every key is judged, so in
# "ValueError: api_key=X" the key "api_key" is found whatever "ValueError" is.
# A lone character class first lets `re` skip to separators; the "=" of "=>" is one, and
# the ">" is skipped before the value.
_pair_re = re.compile(r"""[=:]\s*["']?\\?(?P<rk>[\w.-]{1,64})(?![\w.-])""", re.ASCII)
_value_re = re.compile(rf"\s*>?\s*(?P<val>{_QUOTED}|{_BRACKETED}|{_BARE})")
_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")

RULES: tuple[Rule, ...] = (
    Rule(
        "private_key_block",
        "PEM private keys (-----BEGIN ... PRIVATE KEY----- to its END, or to the end of a "
        "clipped text)",
        ("-----begin",),
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\Z)"
        ),
        _whole,
    ),
    Rule(
        "authorization_header",
        "Authorization / Proxy-Authorization with any scheme (Bearer, Basic, token, Digest, "
        "AWS4-HMAC-SHA256 ...): the whole value, quoted or to the end of the line",
        ("authori",),
        re.compile(
            rf"(?i)(?P<head>\b(?:proxy-)?authori[sz]ation{_SEP})(?P<val>{_QUOTED}|{_TO_EOL})",
            re.ASCII,
        ),
        _header,
    ),
    Rule(
        "cookie_header",
        "Cookie / Set-Cookie values (every cookie of the list, attributes included)",
        ("cookie",),
        re.compile(
            rf"(?i)(?P<head>\b(?:set-)?cookie[s2]?{_SEP})(?P<val>{_QUOTED}|{_TO_EOL})", re.ASCII
        ),
        _header,
    ),
    Rule(
        "url_userinfo",
        "credentials in URLs: scheme://user:password@host (password hidden, a token-like "
        "user too) and scheme://TOKEN@host",
        ("@",),
        re.compile(
            r"(?i)(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<user>[^/\s:@?#\"'<>]+)(?::(?P<pw>[^/\s@?#\"'<>]*))?@",
            re.ASCII,
        ),
        _userinfo,
    ),
    Rule(
        "name_value_record",
        "a header or parameter record naming a secret: {'name': 'Authorization', 'value': v}, "
        '{"key": "X-Api-Key", "value": v} (HAR, Postman, repr of header lists)',
        ("value'", 'value"', "value:", "value=", "value :", "value ="),
        re.compile(
            rf"""(?P<head>["']?(?:name|key|header|field)["']?\s*(?:=>|[=:])\s*(?P<q>["'])(?P<k>[^"'\r\n]{{1,64}})(?P=q)\s*,\s*["']?value["']?\s*(?:=>|[=:])\s*)(?P<val>{_QUOTED}|{_BARE})"""
        ),
        lambda m: f"{m['head']}{_keep_quotes(m['val'])}" if is_secret_key(m["k"]) else m[0],
    ),
    Rule(
        "secret_pair",
        "values after credential keys in any position: key=value, key: value, "
        '"key": "value", key => value, quoted values with spaces, URL query parameters '
        "(?key=, &signature=, X-Amz-Signature=, X-Goog-Credential=, Azure sig=)",
        KEY_HINTS,
        _pair_re,
        _whole,  # not used: `_redact_pairs` walks the matches (see there)
    ),
    Rule(
        "quoted_pair",
        "a secret key and its value as two quoted items: ('X-Api-Key', 'v') in the repr of "
        'a header list, ["token", "v"]',
        ("',", '",', "' ,", '" ,'),
        re.compile(
            rf"""(?P<head>(?<![\w])(?P<q>["'])(?P<k>[A-Za-z_][\w.-]{{0,63}})(?P=q)\s*,\s*)(?P<val>{_QUOTED})(?!\s*(?:=>|[=:]))"""
        ),
        lambda m: f"{m['head']}{_keep_quotes(m['val'])}" if is_secret_key(m["k"]) else m[0],
    ),
    Rule(
        "auth_scheme",
        "a bare 'Bearer <token>' or 'Basic <base64>' outside a header",
        ("bearer", "basic"),
        re.compile(
            r"(?P<scheme>\b(?i:bearer))\s+[A-Za-z0-9._~+/=-]{6,}"
            r"|(?P<scheme2>\b(?i:basic))\s+(?![A-Za-z][a-z]+\b)[A-Za-z0-9+/]{6,}={0,2}",
            re.ASCII,
        ),
        lambda m: f"{m['scheme'] or m['scheme2']} {REDACTED}",
    ),
    Rule(
        "token_shapes",
        "well-known credential formats anywhere: JWTs (eyJ...), Stripe sk_/rk_ live/test keys "
        "and whsec_ secrets, AWS key ids (AKIA/ASIA...), GitHub ghp_/gho_/ghu_/ghs_/ghr_/"
        "github_pat_, Slack xox?-, Google AIza...",
        _TOKEN_HINTS,
        re.compile(
            r"\beyJ[A-Za-z0-9_=-]{10,}(?:\.[A-Za-z0-9_=-]+){0,4}"
            r"|\b[rs]k_(?:live|test)_[A-Za-z0-9]{8,}"
            r"|\bwhsec_[A-Za-z0-9+/=]{8,}"
            r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"
            r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"
            r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
            r"|\bAIza[A-Za-z0-9_-]{30,}"
        ),
        _whole,
    ),
)


_Trie = dict[str, "_Trie"]


def _trie_regex(words: set[str]) -> re.Pattern[str]:
    # One scan for any hint: a trie-shaped alternation is ~2x faster than a flat one in `re`.
    root: _Trie = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        alts = [re.escape(c) + emit(sub) for c, sub in sorted(node.items()) if c]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return re.compile(emit(root))


class _Hints:
    """Which rules a text can need, from one scan for every hint (rebuilt by `add_secret_key`)."""

    def __init__(self, extra_key_hints: tuple[str, ...] = ()) -> None:
        per_rule = [
            rule.hints + (extra_key_hints if rule.pattern is _pair_re else ()) for rule in RULES
        ]
        hints = {h for rule_hints in per_rule for h in rule_hints}
        # Scanned as ASCII bytes (UTF-8, digits zeroed): the rules match ASCII case variants.
        trie = _trie_regex(hints).pattern.encode("ascii")
        self.any = re.compile(trie)
        # A hint also wakes the rules of the hints it contains ("authori" holds "auth").
        self.rules_for = {
            h.encode("ascii"): frozenset(
                i for i, rh in enumerate(per_rule) if any(g in h for g in rh)
            )
            for h in hints
        }
        # Hints that can start inside another and end past it ("pass" then "session" in
        # "passession"), checked apart when that other one is found.
        # Only partners that would wake a rule the hint itself does not are worth a look.
        self.overlaps = {
            a.encode("ascii"): [
                (b.encode("ascii"), self.rules_for[b.encode("ascii")])
                for b in hints
                if any(a[i:] == b[: len(a) - i] and len(b) > len(a) - i for i in range(1, len(a)))
                and not self.rules_for[b.encode("ascii")] <= self.rules_for[a.encode("ascii")]
            ]
            for a in hints
        }

    def rules(self, lowered: bytes) -> tuple[int, ...]:
        found = self.any.findall(lowered)
        if not found:
            return ()
        wanted: set[int] = set()
        for hint in set(found):
            wanted |= self.rules_for[hint]
            # findall does not see a hint that starts inside this one and runs past it.
            for partner, rules in self.overlaps[hint]:
                if not rules <= wanted and partner in lowered:
                    wanted |= rules
        return tuple(sorted(wanted))


_hints = _Hints()
# Hints hold no digits, so a text with its digits zeroed needs the same rules: texts that
# differ only by ids, timestamps or counts share one entry here.
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_rules_cache: dict[bytes, tuple[int, ...]] = {}
_RULES_CACHE_MAX_CHARS = 512


def _redact_pairs(text: str) -> str:
    n = len(text)
    verdicts = _key_verdicts
    spans: list[tuple[int, int]] = []  # values to hide, right to left
    for m in _pair_re.finditer(text[::-1]):
        key = m["rk"][::-1]
        if key[0] not in _KEY_START:
            continue
        secret = verdicts.get(key)
        if secret is None:
            secret = is_secret_key(key)
        if secret:
            v = _value_re.match(text, n - m.start())
            if v is not None:
                spans.append(v.span("val"))
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in reversed(spans):
        if start < last:  # inside a value already hidden
            continue
        out.append(text[last:start])
        out.append(_keep_quotes(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


_literals: tuple[str, ...] = ()  # longest first
_text_cache: dict[str, str] = {}
_CACHE_MAX_ENTRIES = 4096
_CACHE_MAX_CHARS = 256
_listeners: list[Callable[[], None]] = []


def _changed() -> None:
    _key_verdicts.clear()
    _text_cache.clear()
    _rules_cache.clear()
    for listener in _listeners:
        listener()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever secrets or secret keys are added (to drop derived caches)."""
    _listeners.append(listener)


def add_secret_key(key: str) -> None:
    """Treat values under ``key`` (case-insensitive, exact) as secrets from now on."""
    global _hints
    with _lock:
        _extra_keys.add(key.strip().lower())
        _hints = _Hints(tuple(sorted(_extra_keys)))
        _changed()


def register_secret(value: str | None) -> None:
    """Scrub this literal (and its URL-encoded form) wherever it appears; None/"" do nothing.

    Raises `SecretTooShortError` (a ``ValueError``) for a literal under `MIN_SECRET_CHARS`
    characters: scrubbing it would mask ordinary words and point at where the secret is.
    """
    global _literals
    if value is None or value == "":
        return
    if not isinstance(value, str):
        raise SecretTooShortError(f"a secret must be text, not {type(value).__name__}")
    if len(value) < MIN_SECRET_CHARS or len(value) > MAX_SECRET_CHARS:
        raise SecretTooShortError(
            f"cannot scrub a literal secret of {len(value)} characters reliably: register "
            f"literals of {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"
        )
    forms = {value, quote(value, safe="")}
    with _lock:
        _literals = tuple(sorted(set(_literals) | forms, key=len, reverse=True))
        _changed()


def longest_literal() -> int:
    """Length of the longest registered literal (0 if none)."""
    return len(_literals[0]) if _literals else 0


def redact_text(text: str) -> str:
    """Scrub secrets out of free text (messages, exception text, URLs, headers). Short texts are cached."""
    if len(text) <= _CACHE_MAX_CHARS:
        hit = _text_cache.get(text)
        if hit is None:
            hit = redact(text)
            if len(_text_cache) >= _CACHE_MAX_ENTRIES:
                _text_cache.clear()
            _text_cache[text] = hit
        return hit
    return redact(text)


def redact(text: str) -> str:
    """`redact_text` without its cache (for callers that cache what they derive from it)."""
    for secret in _literals:
        if secret in text:
            text = text.replace(secret, REDACTED)
    template = text.encode("utf-8", "surrogatepass").translate(_ZERO_DIGITS)
    wanted = _rules_cache.get(template)
    if wanted is None:
        wanted = _hints.rules(template.lower())
        if len(template) <= _RULES_CACHE_MAX_CHARS:
            if len(_rules_cache) >= _CACHE_MAX_ENTRIES:
                _rules_cache.clear()
            _rules_cache[template] = wanted
    for i in wanted:
        rule = RULES[i]
        if rule.pattern is _pair_re:
            text = _redact_pairs(text)
        else:
            text = rule.pattern.sub(rule.replace, text)
    return text


def redact_url(url: str) -> str:
    """A URL with its credentials hidden: userinfo and secret query parameters."""
    return redact_text(url)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from a record's message, arguments and traceback.

    Attach it to handlers (a logger's filters do not see records propagated from children).
    It formats ``msg % args`` once and keeps the scrubbed text, so any object in ``args`` is
    covered; it never drops a record and never raises.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub ``record`` in place; always keep it."""
        try:
            record.msg = redact_text(record.getMessage())
            record.args = None
        except Exception:
            record.msg = redact_text(safe_str(record.msg, None))
            record.args = None
        try:
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = redact_text(record.exc_text)
            if record.stack_info:
                record.stack_info = redact_text(record.stack_info)
        except Exception:
            record.exc_text = "<traceback withheld: it could not be scrubbed>"
        return True


_filter = RedactingFilter()


def library_logger(name: str) -> logging.Logger:
    """The logger ``name`` with the redacting filter on it: what the library logs is scrubbed
    before any handler (the user's included) sees it."""
    logger = logging.getLogger(name)
    if _filter not in logger.filters:
        logger.addFilter(_filter)
    return logger
