"""Make untrusted post text safe to show in a terminal.

Post text is scraped from the web and may carry escape sequences, C1 controls or
bidi overrides that would drive the terminal or disguise text. Every display
field passes through :func:`display_safe` after parsing; search keeps the original.
A post's source URL is opened or copied only when :func:`url_problem` finds nothing
wrong with it, and the confirmation names the host :func:`url_host` gives.

The replacement is one character for one character, so entity and highlight
offsets computed on the original text stay valid on the sanitised text.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from typing import Any
from urllib.parse import SplitResult, urlsplit

#: U+FFFD stands in for invisible controls that have no dedicated picture.
REPLACEMENT = "\ufffd"


def _span(first: str, last: str) -> str:
    return "".join(map(chr, range(ord(first), ord(last) + 1)))


#: Every character :func:`display_safe` replaces: the one list both the sanitiser and its tests use.
REPLACED: frozenset[str] = frozenset(
    _span("\x00", "\x08")  # C0 controls before tab
    + _span("\x0b", "\x1f")  # C0 controls after newline (CR, ESC, …)
    + "\x7f"  # DEL
    + _span("\x80", "\x9f")  # C1 controls (8-bit CSI \x9b, NEL \x85, …)
    + "\u061c"  # Arabic letter mark
    + _span("\u200b", "\u200f")  # zero-width space/joiners, LRM, RLM
    + "\u2028\u2029"  # line and paragraph separators
    + _span("\u202a", "\u202e")  # bidi embeddings and overrides
    + _span("\u2060", "\u2064")  # word joiner, invisible operators
    + _span("\u2066", "\u2069")  # bidi isolates
    + "\ufeff"  # zero-width no-break space / stray BOM
    + _span("\ufff9", "\ufffb")  # interlinear annotation controls
    + _span("\ud800", "\udfff")  # lone surrogates (undecodable file-name bytes): they would crash the terminal
)
_UNSAFE = re.compile("[" + "".join(map(re.escape, sorted(REPLACED))) + "]")


def _picture(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ␀ … ␟, ␛ for ESC
    if code == 0x7F:
        return "\u2421"  # ␡
    return REPLACEMENT


def display_safe(text: str) -> str:
    """Return ``text`` with every terminal-affecting or invisible control made visible.

    Newlines and tabs are kept. The result has exactly the same length as ``text``.
    """
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_picture, text)


def one_line(text: str, limit: int = 300) -> str:
    """Sanitise ``text`` for a single-line display field, folding whitespace and capping length."""
    folded = " ".join(display_safe(text).split())
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_text(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON that keeps readable Unicode but escapes every character :func:`display_safe` would
    replace (C1 controls, DEL, bidi, zero-width, lone surrogates), so printing it cannot drive a terminal.

    Those characters only ever occur inside JSON strings, where ``\\uXXXX`` decodes back to the same text.
    """
    return _UNSAFE.sub(_json_escape, json.dumps(value, ensure_ascii=False, indent=indent))


#: Unicode categories no URL worth opening contains: controls, format characters (bidi, zero-width, soft
#: hyphen), surrogates, private use, unassigned, and every kind of space or line separator.
_URL_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
_SCHEMES = ("http", "https")


def _split(url: str) -> SplitResult | str:
    """The parsed URL, or why it may not be opened."""
    if not url:
        return "there is no URL"
    for char in url:
        if char.isspace() or unicodedata.category(char) in _URL_FORBIDDEN_CATEGORIES:
            return f"it contains an invisible or control character (U+{ord(char):04X})"
        if char == "\\":
            return "it contains a backslash"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as error:
        return f"it is not a well-formed URL ({error})"
    if parts.scheme.lower() not in _SCHEMES:
        return "only http and https links are opened"
    host = parts.hostname or ""
    if not host:
        return "it names no host"
    if parts.netloc.rpartition("@")[2].startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "its host is not a valid IPv6 address"
    elif not all(
        label and all(char.isalnum() or char in "-_" for char in label) for label in host.removesuffix(".").split(".")
    ):
        return "its host name contains characters no host name has"
    return parts


def url_problem(url: str) -> str | None:
    """Why ``url`` may not be opened in a browser or copied, or ``None`` when it may.

    Only ``http``/``https`` with a host; no whitespace, control, bidi, zero-width or other invisible
    characters (a pasted newline or ``ESC [201~`` would end a shell's bracketed paste); no backslashes
    (browsers read them as slashes, other tools do not, so two programs would see two hosts).
    """
    parts = _split(url)
    return parts if isinstance(parts, str) else None


def _punycode(host: str) -> str:
    labels = []
    for label in host.split("."):
        labels.append(label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii"))
    return ".".join(labels)


def url_host(url: str) -> str:
    """The host the browser will really contact, for a confirmation; "" when :func:`url_problem` objects.

    Any ``user:password@`` part is dropped (``https://trusted.com.aaaa@evil.example/`` → ``evil.example``);
    an internationalised name is shown with its punycode too (``bücher.example (xn--bcher-kva.example)``),
    so look-alike letters from other scripts cannot pass for a familiar name.
    """
    parts = _split(url)
    if isinstance(parts, str):
        return ""
    host = parts.hostname or ""
    ascii_host = _punycode(host)
    return host if ascii_host == host else f"{host} ({ascii_host})"
