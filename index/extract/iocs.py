"""Indicators of compromise, plain or defanged: IPs, domains, URLs, e-mail addresses, hashes.

Linear by construction: anchor regexes without nested repetition find spots worth a look
(``x.y``, ``[.]``, ``a:b``, ``@``, a digit starting 16 hex digits); each spot is widened to its whitespace-delimited
token (capped at :data:`MAX_TOKEN` characters) once, and every token is validated in Python with
plain string operations.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping

from index.extract.scan import led_by, scan

MAX_TOKEN = 2048
# Spots an indicator can hold: "x.y", "x@y", "a:b" between two alphanumerics ([^\W_] is exactly
# str.isalnum), or a defang bracket ("[.]", "(dot)", "[at]", …; the letters in either case). Each pattern starts
# with its character and puts its conditions in look-arounds after it, so the engine skips to the next candidate
# at C speed and rejects the ordinary full stops and brackets of prose there: Python only sees real candidates.
# A hash is found from a digit followed by 15 more hex digits (every realistic hash has one in its first half).
_ANCHORS = (
    *led_by((".", "@", ":"), r"(?<=[^\W_].)(?=[^\W_])"),
    *led_by(("[",), r"(?=[.@:/]\]|[dD][oO][tT]\]|[aA][tT]\])"),
    *led_by(("(",), r"(?=\.\)|[dD][oO][tT]\)|[aA][tT]\))"),
    *led_by(("{",), r"(?=\.\})"),
)
_HEX_RUN = re.compile(r"[0-9][0-9a-fA-F]{15}")
_TOKEN_END = re.compile(rf"\S{{0,{MAX_TOKEN}}}")
_IPV4 = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(/\d{1,2})?")
_HEX = re.compile(r"[0-9a-fA-F]{32,64}")
_SCHEME = re.compile(r"(?:https?|ftp)://", re.I)
_DEFANGS = (
    (re.compile(r"^h[x*]{2}p", re.I), "http"),
    (re.compile(r"^fxp", re.I), "ftp"),
    (re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", re.I), "."),
    (re.compile(r"\[:\]"), ":"),
    (re.compile(r"\[/\]"), "/"),
    (re.compile(r"\[@\]|\[at\]|\(at\)", re.I), "@"),
)
_LEAD = "\"'([{<“‘"
_TAIL = "\"'.,;:!?)]}>”’"
_HASHES = {32: "md5", 40: "sha1", 64: "sha256"}


def refang(value: str) -> str:
    """``hxxp://evil[.]example`` → ``http://evil.example``."""
    if not any(mark in value for mark in "[({") and value[:1] not in "hHfF":
        return value
    for pattern, replacement in _DEFANGS:
        value = pattern.sub(replacement, value)
    return value


_DEFANG_SCHEMES = (("https://", "hxxps://"), ("http://", "hxxp://"), ("ftp://", "fxp://"))


def defang(value: str, kind: str) -> str:
    """A refanged indicator made safe to paste: ``http://evil.example/a.php`` → ``hxxp://evil[.]example/a.php``.

    Only the host's dots (and an e-mail's ``@``) are bracketed, so :func:`refang` restores the value exactly.
    Hashes are left as they are.
    """
    if kind in ("md5", "sha1", "sha256"):
        return value
    if kind == "ipv6":
        return value.replace(":", "[:]")
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return f"{local}[@]{domain.replace('.', '[.]')}"
    if kind != "url":
        return value.replace(".", "[.]")
    scheme = ""
    for plain, defanged in _DEFANG_SCHEMES:
        if value.lower().startswith(plain):
            scheme, value = defanged, value[len(plain) :]
            break
    host, slash, rest = value.partition("/")
    return scheme + host.replace(".", "[.]") + slash + rest


def find_iocs(text: str, tables: Mapping[str, frozenset[str]]) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, refanged value, type) for every indicator in ``text``, in order."""
    done = 0
    anchors = [m.start() for m in scan(_ANCHORS, text)]
    anchors += [m.start() for m in _HEX_RUN.finditer(text)]
    anchors.sort()
    for pos in anchors:
        if pos < done:
            continue
        low = max(done, pos - MAX_TOKEN)
        start = max(text.rfind(" ", low, pos), text.rfind("\n", low, pos), low - 1) + 1
        token_end = _TOKEN_END.match(text, pos)
        end = token_end.end() if token_end else pos
        done = max(end, pos + 1)
        found = _classify(text, start, end, tables)
        if found is not None:
            yield found


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop surrounding punctuation, keeping a defang bracket that ends the token."""
    while start < end and text[start] in _LEAD and not text.startswith(("[.]", "(.)"), start):
        start += 1
    while end > start and text[end - 1] in _TAIL:
        if text.endswith(("[.]", "(.)", "[@]", "[:]"), start, end):
            break
        end -= 1
    return start, end


def _classify(
    text: str, start: int, end: int, tables: Mapping[str, frozenset[str]]
) -> tuple[int, int, str, str] | None:
    start, end = _trim(text, start, end)
    raw = text[start:end]
    if len(raw) < 4:
        return None
    value = refang(raw)
    defanged = value != raw
    kind = _kind(value, defanged, tables)
    if kind is None:
        return None
    if kind == "ipv4" and not defanged and _after_version_word(text, start, tables):
        return None
    if kind in ("md5", "sha1", "sha256", "domain", "email"):
        value = value.lower()
    return start, end, value, kind


def _kind(value: str, defanged: bool, tables: Mapping[str, frozenset[str]]) -> str | None:
    if _SCHEME.match(value):
        host = value.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        host = host.rsplit("@", 1)[-1].split(":", 1)[0] if host.count(":") <= 1 else host
        return "url" if _host_ok(host, defanged, tables) else None
    if value.count("@") == 1:
        local, domain = value.split("@")
        ok = local and local.replace(".", "").replace("-", "").replace("_", "").replace("+", "").isalnum()
        return "email" if ok and _domain_ok(domain, defanged, tables) else None
    if len(value) in _HASHES and _HEX.fullmatch(value) and any(c.isdigit() for c in value):
        return _HASHES[len(value)]
    if _ipv4_ok(value):
        return "ipv4"
    if value.count(":") >= 2 and _ipv6_ok(value):
        return "ipv6"
    if "/" in value:
        host, _path = value.split("/", 1)
        return "url" if "." in host and _domain_ok(host, defanged, tables) else None
    return "domain" if _domain_ok(value, defanged, tables) else None


def _ipv4_ok(value: str) -> bool:
    match = _IPV4.fullmatch(value)
    return match is not None and all(int(part) <= 255 for part in match.groups()[:4])


def _ipv6_ok(value: str) -> bool:
    try:
        ipaddress.IPv6Address(value.strip("[]"))
    except ValueError:
        return False
    return True


def _host_ok(host: str, defanged: bool, tables: Mapping[str, frozenset[str]]) -> bool:
    return _ipv4_ok(host) or _ipv6_ok(host) or _domain_ok(host, defanged, tables)


def _domain_ok(value: str, defanged: bool, tables: Mapping[str, frozenset[str]]) -> bool:
    labels = value.split(".")
    if len(labels) < 2 or len(value) > 253:
        return False
    for label in labels:
        core = label.replace("-", "")
        if (
            not label
            or len(label) > 63
            or not core.isascii()
            or not core.isalnum()
            or label[0] == "-"
            or label[-1] == "-"
        ):
            return False
    tld = labels[-1].lower()
    if not (tld.isalpha() and 2 <= len(tld) <= 24):
        return False
    if defanged:
        return True
    if value != value.lower() or tld not in tables["tlds"] or tld in tables["file_extensions"]:
        return False
    lowered = value.lower()
    return not any(lowered == benign or lowered.endswith("." + benign) for benign in _suffixes(lowered, tables))


def _suffixes(domain: str, tables: Mapping[str, frozenset[str]]) -> list[str]:
    """The benign domains that ``domain`` equals or ends with (checked per suffix, not per list item)."""
    labels = domain.split(".")
    candidates = {".".join(labels[i:]) for i in range(len(labels) - 1)}
    return [c for c in candidates if c in tables["benign"]]


def _after_version_word(text: str, start: int, tables: Mapping[str, frozenset[str]]) -> bool:
    before = text[max(0, start - 24) : start].split()
    return bool(before) and before[-1].lower().rstrip(":") in tables["version"]
