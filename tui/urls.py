"""How a browser is started for a source URL (which URLs may leave is :func:`index.sanitize.url_problem`).

Textual-free: the screen decides whether to suspend the app around the browser.
"""

from __future__ import annotations

import webbrowser


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
