"""The user's key map and saved queries, from ``keys.toml`` in the config folder.

File format (TOML; every part optional)::

    # ~/.config/spyglass/keys.toml (or $SPYGLASS_CONFIG_DIR/keys.toml)

    [keys]
    # binding id = key, or several keys separated by commas (Textual key names)
    "triage.star" = "s,asterisk"
    "article.next_entity" = "right_square_bracket,greater_than_sign"

    [queries]
    # palette name = query; shown in the command palette as saved searches
    "China-nexus actors" = "actor:APT40 OR actor:APT41"
    "Phishing this year" = "technique:T1566 date:2024"

Binding ids are the ``id=`` of the app's bindings (listed on the help screen); an id that no
binding has is named in a warning at start.
A missing file is normal. A file that cannot be read or parsed never stops the app:
the loaders return what they could use plus a warning for the app to show.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from index.paths import config_dir

FILE_NAME = "keys.toml"
MAX_CONFIG_BYTES = 256 * 1024
_MAX_KEY_CHARS = 100
_MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class UserConfig:
    """What ``keys.toml`` holds, plus the problems found reading it."""

    keys: dict[str, str] = field(default_factory=dict)
    queries: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def warning(self) -> str | None:
        """All problems as one message, or ``None``."""
        return "; ".join(self.warnings) if self.warnings else None


def config_path() -> Path:
    """Where the key map lives: ``config_dir()/keys.toml``."""
    return config_dir() / FILE_NAME


def _valid_keys(value: str) -> bool:
    """``"ctrl+s"`` or ``"j, down"``: comma-separated key names without spaces or controls."""
    if len(value) > _MAX_KEY_CHARS or not value.isprintable():
        return False
    parts = [part.strip() for part in value.split(",")]
    return all(part and not any(char.isspace() for char in part) for part in parts)


def _read(path: Path) -> dict[str, object] | str:
    """The parsed TOML document, or a message saying why there is none ("" for a missing file)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return ""
    except IsADirectoryError:
        return f"{path} is a folder, not a file"
    except PermissionError:
        return f"{path}: permission denied"
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    if len(raw) > MAX_CONFIG_BYTES:
        return f"{path} is larger than {MAX_CONFIG_BYTES // 1024} KB"
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        return f"{path} is not UTF-8 (byte {error.start})"
    except tomllib.TOMLDecodeError as error:
        return f"{path} is not valid TOML: {error}"


def _table(document: dict[str, object], name: str, warnings: list[str]) -> dict[str, object]:
    value = document.get(name, {})
    if isinstance(value, dict):
        return value
    warnings.append(f"[{name}] must be a table")
    return {}


def load_config(path: Path | None = None) -> UserConfig:
    """Read ``keys.toml`` (default :func:`config_path`); never raises for a bad or missing file."""
    path = config_path() if path is None else path
    document = _read(path)
    if isinstance(document, str):
        return UserConfig(warnings=[document] if document else [])
    warnings: list[str] = []
    keys: dict[str, str] = {}
    bad_keys: list[str] = []
    for binding_id, value in _table(document, "keys", warnings).items():
        if isinstance(value, str) and _valid_keys(value) and binding_id.isprintable():
            keys[binding_id] = ",".join(part.strip() for part in value.split(","))
        else:
            bad_keys.append(binding_id)
    if bad_keys:
        shown = ", ".join(repr(name[:40]) for name in bad_keys[:5])
        warnings.append(f'ignored keys that are not key strings such as "ctrl+s": {shown}')
    queries: list[tuple[str, str]] = []
    bad_queries = 0
    for name, query in _table(document, "queries", warnings).items():
        if isinstance(query, str) and query.strip() and len(query) <= _MAX_QUERY_CHARS and query.isprintable():
            queries.append((name, query.strip()))
        else:
            bad_queries += 1
    if bad_queries:
        warnings.append(f"ignored {bad_queries} saved quer{'y' if bad_queries == 1 else 'ies'} that are not text")
    return UserConfig(keys, queries, [f"{path}: {warning}" for warning in warnings])


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], str | None]:
    """The key map (binding id → keys) for ``App.set_keymap``, and a warning to show, if any."""
    config = load_config(path)
    return config.keys, config.warning


def load_saved_queries(path: Path | None = None) -> list[tuple[str, str]]:
    """Saved queries as (name, query); problems are reported by :func:`load_keymap`, not here."""
    return load_config(path).queries


def unknown_binding_ids(keymap: dict[str, str], known: Iterable[str]) -> list[str]:
    """Ids in the key map that no binding has (likely typos), to mention in a warning."""
    known_ids = set(known)
    return sorted(binding_id for binding_id in keymap if binding_id not in known_ids)
