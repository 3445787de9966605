"""Make untrusted post text safe to show in a terminal.

Post text is scraped from the web and may carry escape sequences, C1 controls or
bidi overrides that would drive the terminal or disguise text. Every display
field passes through :func:`display_safe` after parsing; search keeps the original.

The replacement is one character for one character, so entity and highlight
offsets computed on the original text stay valid on the sanitised text.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: U+FFFD stands in for invisible controls that have no dedicated picture.
REPLACEMENT = "\ufffd"

_BIDI_AND_INVISIBLE = (
    "\u061c"  # Arabic letter mark
    "\u200b-\u200f"  # zero-width space/joiners, LRM, RLM
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e"  # bidi embeddings and overrides
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\ufeff"  # zero-width no-break space / stray BOM
    "\ufff9-\ufffb"  # interlinear annotation controls
    "\ud800-\udfff"  # lone surrogates (undecodable file-name bytes): unencodable, they would crash the terminal
)
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f" + _BIDI_AND_INVISIBLE + "]")


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
