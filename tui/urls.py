"""Source URLs leaving the app: which ones may, and how a browser is started for them.

Textual-free. The same rule guards opening (``o``) and copying (``y``): a post's URL is
untrusted, so only a plain http/https link without spaces or control characters leaves.
"""

from __future__ import annotations

import webbrowser
from urllib.parse import urlsplit


def checked_url(url: str) -> str | None:
    """``url`` stripped, if it is a plain http/https link; None for anything else."""
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https") or any(ord(char) < 33 or ord(char) == 127 for char in url):
        return None
    return url


def browser_needs_terminal() -> bool:
    """Whether the browser ``webbrowser`` would start runs in this terminal (``BROWSER=w3m``, lynx …).

    Python starts those in the foreground and waits for them; the app must hand the terminal over
    (suspend) while they run. Graphical browsers start in the background.
    """
    try:
        controller = webbrowser.get()
    except webbrowser.Error:
        return False
    return type(controller) is webbrowser.GenericBrowser


def open_in_browser(url: str) -> bool:
    """Start the browser with ``url`` as one argument (no shell); False if none could start."""
    return webbrowser.open(url)
