"""The secret patterns the redactor (``redact.py``) applies, and the checks that tell a secret
from a look-alike.

The built-in patterns (their names are what ``redact_disable`` takes):

=================  =========================================================================
aws-key            AWS access key ids (AKIA/ASIA..., 20 characters) and a 40-character secret
                   access key next to an ``aws_secret_access_key``-style label
gcp-key            Google API keys (``AIza`` + 35)
openai-key         ``sk-...`` and ``sk-proj-...`` keys (20+ characters with a digit)
anthropic-key      ``sk-ant-...`` keys
github-token       ``ghp_`` ``gho_`` ``ghu_`` ``ghs_`` ``ghr_`` tokens and ``github_pat_...``
gitlab-token       ``glpat-...``
slack-token        ``xoxa-`` ``xoxb-`` ``xoxp-`` ``xoxr-`` ``xoxs-`` tokens
jwt                three base64url parts, the first starting ``eyJ``
bearer-token       the token after ``Bearer`` / ``Authorization: Basic|Token``
private-key        a ``-----BEGIN ... PRIVATE KEY-----`` block; OCR gives one line at a time,
                   so ``Redactor.redact_lines`` also takes the base64 lines after it
connection-string  the password of ``scheme://user:password@host``
card-number        13-19 digits (spaces or dashes between them allowed, as OCR reads them)
                   with a card network's first digits, that pass the Luhn check; in a
                   sentence about a card or a number, single digits too, however spaced
                   (a number said aloud digit by digit: ``4.5-3-9, 1-4-8-8, ...``); in a
                   sentence naming a card, 13-24 such digits even failing Luhn (speech
                   recognisers double or drop digits said aloud)
iban               country code, check digits and account, of that country's length,
                   passing the mod-97 check
password           a value shown next to a password/passwd/pwd/passphrase/secret/密码 label
                   (``password: hunter2``, ``DB_PASSWORD=...``, ``"secret": "..."``), or
                   said or written as ``the password is tangerine``; code such as
                   ``password = None`` or ``password=self.password``, and forms saying
                   ``password is required``, are left alone
=================  =========================================================================

Each pattern has a cheap hint a line must pass before its regex runs, since most lines hold no
secret. Patterns that match keys go on over a space where OCR split a key in two.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lifelog.config import REDACT_PATTERN_NAMES

# -- validators --------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# IBAN lengths by country (SWIFT's IBAN registry).
IBAN_LENGTHS = dict(
    (c, int(n))
    for c, n in (
        item.split(":")
        for item in (
            "AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BR:29 BY:28 CH:21 CR:22 CY:28 CZ:24 DE:22 "
            "DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FO:18 FR:27 GB:22 GE:22 GI:23 GL:18 GR:27 GT:28 HR:21 HU:28 "
            "IE:22 IL:23 IQ:23 IS:26 IT:27 JO:30 KW:30 KZ:20 LB:28 LC:32 LI:21 LT:20 LU:20 LV:21 MC:27 MD:24 "
            "ME:22 MK:19 MR:27 MT:31 MU:30 NL:18 NO:15 PK:24 PL:28 PS:29 PT:25 QA:29 RO:24 RS:22 SA:24 SC:31 "
            "SE:24 SI:19 SK:24 SM:27 ST:25 SV:28 TL:23 TN:24 TR:26 UA:29 VA:22 VG:24 XK:20"
        ).split()
    )
)


def iban_ok(text: str) -> bool:
    """A valid IBAN: a known country, its length, and the mod-97 check."""
    iban = text.replace(" ", "").upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[068]|6|35")
_ARITHMETIC = set("([{,=*/+-^<>%)]}")
_NOT_A_PASSWORD = frozenset(
    """
none null nil true false undefined str string bytes int bool dict list any optional self cls lambda
required optional hidden yes no input getpass prompt env environ value default changeme redacted
the and one not for are was must should will can see set use has have with from that this your you our its
""".split()
)
_CALL = re.compile(r"[A-Za-z_][\w.]*[(\[]")  # code: pwd = os.getcwd(), secret = keys[0], Optional[str]
_ATTRIBUTE = re.compile(r"[A-Za-z_]\w*\.[A-Za-z_][\w.]*")  # code: args.password
_ANNOTATION = re.compile(r"\s*[=|]")  # what follows the value of "password: str = None"
_PLACEHOLDER_START = tuple("$%{<[*(•·.#@&\\") + ("...",)


def _card(m: re.Match, secret: str) -> bool:
    """13-19 digits of a card network that pass Luhn; a run without separators next to code or
    arithmetic (``seed(4111...)``, ``[..., 5105...]``, ``x * 10**15``) is a number."""
    digits = re.sub(r"\D", "", secret)
    if not (13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_ok(digits)):
        return False
    if len(digits) < len(secret):  # grouped as printed (4 4 4 4, 4 6 5), not a row of small numbers
        return all(len(group) >= 3 for group in re.split(r"[ \-]+", secret))
    before, after = m.string[: m.start()].rstrip()[-1:], m.string[m.end() :].lstrip()[:1]
    return not (before and before in _ARITHMETIC or after and after in _ARITHMETIC)


_CARD_NAMED = ("card", "visa", "master", "amex", "credit", "debit")
_CARD_WORDS = (*_CARD_NAMED, "number")


def _card_said(m: re.Match, secret: str) -> bool:
    """13-19 digits of a card network that pass Luhn, however they are spaced, in a sentence
    about a card or a number; without such a word (Whisper heard "card" as "current") only
    digits said one by one and written with dashes (``4.5-3-9, 1-4-8-8``).

    In a sentence naming a card, 13-24 digits of a card network written as a recogniser writes
    a number said aloud (one run, thousands with commas, or digit by digit) whether or not they
    pass Luhn: recognisers double or drop digits said aloud (Whisper base heard "4111 1111 1111
    1111" as 19 ones, tiny.en as "4,111,111,..."), and what is left is still most of the card.
    Digits in printed groups (a card, an IBAN's tail) must pass Luhn."""
    digits = re.sub(r"\D", "", secret)
    if not (13 <= len(digits) <= 24 and _CARD_PREFIX.match(digits)):
        return False
    low = m.string.lower()
    if any(w in low for w in _CARD_NAMED) and _AS_HEARD.fullmatch(secret):
        return True
    if not (len(digits) <= 19 and luhn_ok(digits)):
        return False
    if any(w in low for w in _CARD_WORDS):
        return True
    if "-" in secret and all(len(group) == 1 for group in re.split(r"[ \-.,]+", secret)):
        return True
    return _PRINTED.fullmatch(secret) is not None and _card(m, secret)  # what the printed form would take


# how a recogniser writes a number said aloud: one run, thousands with commas, or digit by digit
_AS_HEARD = re.compile(r"\d+|\d{1,3}(?:,\d{3})+|\d(?:[ \-.,]{1,3}\d)+")
_PRINTED = re.compile(r"\d(?:[ \-]{0,2}\d)+")


def _iban(m: re.Match, secret: str) -> bool:
    return iban_ok(secret)


def _password(m: re.Match, secret: str) -> bool:
    """A value next to a password label, not code that names one (``password=None``,
    ``password=self.password``, ``pwd = os.getcwd()``) or a placeholder (``${PASSWORD}``, ``****``)."""
    after, before = m.string[m.end() : m.end() + 1], m.string[max(0, m.start() - 7) : m.start()].lower()
    if after in ("(", ".", "[") or secret.startswith(_PLACEHOLDER_START) or _CALL.match(secret):
        return False
    if _ANNOTATION.match(m.string, m.end()) or before.endswith("param "):
        return False  # a type annotation (password: Optional[str] = None) or a docstring's :param password:
    label = m.group(0)[: m.group(0).rfind(secret)]
    if "=" in label and (after == "," or m.string[: m.start()].rstrip().endswith(",")):
        return False  # code: user, password = a, b / f(x, pwd=y, z)
    low = secret.lower().rstrip(")]},:")
    if low in _NOT_A_PASSWORD or set(low) <= set("*•·x-_."):
        return False
    if re.fullmatch(r"[a-z_][a-z0-9_]*", low) and any(w in low for w in ("pass", "pwd", "secret")):
        return False  # an identifier that names one: password=new_password
    return not _ATTRIBUTE.fullmatch(secret)  # attribute access: args.password


_NOT_SAID = frozenset(
    """
required incorrect invalid wrong too case correct expired changed reset weak strong empty missing needed
saved stored shown hidden encrypted hashed protected sent set being also still now only different same
used unknown blank long short secure insecure correct case-sensitive displayed visible masked generated
""".split()
)


def _spoken_password(m: re.Match, secret: str) -> bool:
    """``password is X`` where X is a password, not how a form describes one (``is required``)."""
    low = secret.lower().rstrip(")]},:")
    return not (
        low in _NOT_SAID
        or low in _NOT_A_PASSWORD
        or secret.startswith(_PLACEHOLDER_START)
        or _CALL.match(secret)
        or _ATTRIBUTE.fullmatch(secret.rstrip(")]},:"))
    )


def _connection(m: re.Match, secret: str) -> bool:
    return not secret.startswith(_PLACEHOLDER_START) and secret.lower() not in ("password", "pass", "pwd")


# -- the pattern set ----------------------------------------------------------------------

Hint = Callable[[str, str, int], bool]  # (text, text.lower(), how many ASCII digits) -> worth a look


@dataclass(frozen=True)
class Pattern:
    """One kind of secret: ``regex`` matches it; its group ``secret`` (when it has one) is the
    part replaced; ``check`` (match, secret text) -> bool rejects look-alikes; ``hint`` is a
    cheap test a line must pass before the regex runs (most lines hold no secret)."""

    name: str
    regex: str
    check: Callable[[re.Match, str], bool] | None = None
    hint: Hint = lambda text, low, digits: True


def _has(*words: str, lower: bool = False) -> Hint:
    if lower:
        return lambda text, low, digits: any(w in low for w in words)
    return lambda text, low, digits: any(w in text for w in words)


_B = r"(?<![A-Za-z0-9_\-])"  # not inside a longer token
_E = r"(?![A-Za-z0-9_\-])"
# OCR of a monospace screen can put a space inside a long key ("sk-proj -4fTq...Yj 0Ga"): a key
# goes on over a space while the next piece looks like key (a digit, or two capitals inside).
_MORE = r"(?: (?=[A-Za-z0-9_\-]*\d|[A-Za-z0-9_\-]*[A-Z][a-z0-9_\-]*[A-Z])[A-Za-z0-9_\-]{2,})*"
_DASH = r" ?- ?"  # a dash OCR set apart
_PW_LABEL = r"(?i:password|passwd|passwort|passphrase|pwd|secret|contraseña|mot de passe|пароль)|密码|口令"

BUILTIN: tuple[Pattern, ...] = (
    Pattern(
        "private-key",
        r"-{3,}\s*BEGIN\s+(?:[A-Z0-9]+\s+)*PRIVATE\s+KEY(?:\s+BLOCK)?\s*-{3,}"
        r"[\s\S]*?(?:-{3,}\s*END\s+(?:[A-Z0-9]+\s+)*PRIVATE\s+KEY(?:\s+BLOCK)?\s*-{3,}|\Z)",
        hint=_has("PRIVATE"),
    ),
    Pattern("aws-key", _B + r"(?:AKIA|ASIA)(?: ?[A-Z0-9]){16}" + _E, hint=_has("AKIA", "ASIA")),
    Pattern(
        "aws-key",
        r"(?i:aws_?secret(?:_?access)?_?key|secret_?access_?key)[\"']?\s*[:=]\s*[\"']?"
        r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
        hint=_has("secret", lower=True),
    ),
    Pattern("gcp-key", _B + r"AIza[0-9A-Za-z_\-]{35}" + _MORE + _E, hint=_has("AIza")),
    Pattern(
        "anthropic-key",
        _B + r"sk" + _DASH + r"ant" + _DASH + r"(?:[a-z]{3}\d\d" + _DASH + r")?[A-Za-z0-9_\-]{20,}" + _MORE,
        hint=_has("sk-ant", "sk -ant", "sk- ant"),
    ),
    Pattern(
        "openai-key",
        _B + r"sk" + _DASH + r"(?:(?:proj|svcacct|admin)" + _DASH + r")?"
        r"(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{20,}" + _MORE,
        hint=_has("sk-", "sk -"),
    ),
    Pattern(
        "github-token",
        _B + r"(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})" + _MORE + _E,
        hint=_has("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Pattern("gitlab-token", _B + r"glpat" + _DASH + r"[A-Za-z0-9_\-]{20,}" + _MORE, hint=_has("glpat")),
    Pattern("slack-token", _B + r"xox[abprs]" + _DASH + r"[A-Za-z0-9\-]{10,}" + _MORE, hint=_has("xox")),
    Pattern("jwt", _B + r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", hint=_has("eyJ")),
    Pattern(
        "bearer-token",
        r"(?i:\bbearer\s+|\bauthorization\s*[:=]\s*[\"']?(?:basic|token)\s+)"
        r"(?P<secret>(?=[A-Za-z0-9\-._~+/]*\d)[A-Za-z0-9\-._~+/]{16,}=*)",
        hint=lambda text, low, digits: digits > 0 and ("bearer" in low or "authoriz" in low),
    ),
    Pattern(
        "connection-string",
        r"\b[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s:/@]+:(?P<secret>[^\s:/@]+)@[^\s/@]",
        _connection,
        hint=lambda text, low, digits: "://" in text and "@" in text,
    ),
    # said aloud, a digit at a time, Whisper writes "4.5-3-9, 1-4-8-8, ..." or "4 5 3 9 ...": any
    # spacing (first: the printed form below would take the run and refuse its one-digit groups)
    Pattern(
        "card-number",
        r"(?<![\w.\-])(?P<secret>\d(?:[ \-.,]{0,3}\d){12,23})(?![ \-.,]{0,3}\d)(?![\w])",
        _card_said,
        hint=lambda text, low, digits: digits >= 13 and ("-" in text or any(w in low for w in _CARD_WORDS)),
    ),
    Pattern(
        "card-number",
        r"(?<![\w.\-])(?P<secret>\d(?:[ \-]{0,2}\d){12,18})(?![ \-]?\d)(?![\w.])",
        _card,
        hint=lambda text, low, digits: digits >= 13,
    ),
    Pattern(
        "iban",
        r"\b(?P<secret>[A-Z]{2}\d\d(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b",
        _iban,
        hint=lambda text, low, digits: digits >= 6,
    ),
    Pattern(
        "password",
        r"(?<![\w:/])(?:[A-Za-z0-9]+[_\-.])*(?:" + _PW_LABEL + r")[\"']?\s*[:=：＝](?!=)\s*"
        r"[\"'`]?(?P<secret>[^\s\"'`,;]{3,})",
        _password,
        hint=_has("pass", "pwd", "secret", "密码", "口令", "contraseña", "пароль", lower=True),
    ),
    # said aloud, or written as a sentence: "the wifi password is tangerine"
    Pattern(
        "password",
        r"(?i:\b(?:password|passphrase|passcode)\s+is\s+)(?P<secret>[^\s\"'`,;]{2,}[^\s\"'`,;.!?])",
        _spoken_password,
        hint=_has("pass", lower=True),
    ),
)
assert {p.name for p in BUILTIN} == set(REDACT_PATTERN_NAMES), "config.REDACT_PATTERN_NAMES is out of date"

# Every hint above that a line with fewer than 6 digits can pass, as one search of its lower case.
ANY_HINT = re.compile(
    "private|akia|asia|aiza|sk ?-|gh[pousr]_|github_pat_|glpat|xox|eyj|://|secret|pass|pwd|"
    "bearer|authoriz|contraseña|пароль|密码|口令"
)
KEY_LINE = re.compile(r"^\s*[A-Za-z0-9+/=\s]{16,}$")  # a base64 line of a private-key block
KEY_END = re.compile(r"-{3,}\s*END\s+(?:[A-Z0-9]+\s+)*PRIVATE\s+KEY")
