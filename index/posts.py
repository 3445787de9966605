"""Posts on disk: finding them, reading them leniently, and reporting the ones we cannot read.

A post is a Markdown file with optional YAML front matter. Reading never raises for a
bad file: it yields a :class:`PostProblem` (file, reason, line/column where known) and
the scan goes on. Nothing here ever writes to the posts folder.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import frontmatter

from index.dates import date_from_file_name, parse_date
from index.frontmatter_yaml import FrontMatterError, StrictYAMLHandler

POST_SUFFIXES = (".md", ".markdown")
MAX_POST_BYTES = 4 * 1024 * 1024
MAX_TITLE_CHARS = 500
URL_KEYS = ("tourl", "url", "link", "source_url")
_KNOWN_KEYS = {"title", "date", "tags", "layout", *URL_KEYS}
_NULLS = {"", "~", "null", "none"}
#: Bytes that do not occur in text files (C0 controls other than tab, newline, VT, FF and CR).
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])
_STARTS_WITH_FENCE = re.compile(r"\A-{3,}[ \t]*$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PostProblem:
    """A file that could not be loaded (``skipped``) or loaded with a caveat."""

    post_id: str
    reason: str
    line: int | None = None
    column: int | None = None
    skipped: bool = True

    def __str__(self) -> str:
        where = self.post_id
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class PostFile:
    """A candidate post found by the scan, with the stat facts used for change detection."""

    post_id: str
    path: Path
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Post:
    """One post as read from disk. ``body`` is the original text (not sanitised)."""

    post_id: str
    path: Path
    title: str
    date: datetime | None
    url: str
    source: str
    tags: tuple[str, ...]
    extra: dict[str, str]
    body: str
    size: int = 0
    mtime_ns: int = 0
    warnings: tuple[str, ...] = field(default=())
    content_hash: str = ""  # SHA-1 of the very bytes that were parsed; triage state follows it across renames


def source_host(url: str) -> str:
    """The host of a URL without ``www.``: ``https://www.cyberscoop.com/x`` → ``cyberscoop.com``."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def title_from_file_name(name: str) -> str:
    """``2018-07-11-chinese-group-breaches.md`` → ``Chinese group breaches``."""
    stem = name.rsplit(".", 1)[0]
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", stem)
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else name


def _as_text(value: object) -> str | None:
    """A scalar front-matter value as text; ``None`` for null-like values."""
    if value is None:
        return None
    if isinstance(value, list):
        parts = [str(item) for item in value if isinstance(item, str) and item.strip()]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        return None
    text = str(value).strip()
    return None if text.lower() in _NULLS else text


def parse_tags(value: object) -> tuple[str, ...]:
    """Tags from a YAML list, a comma-separated string or a single scalar; blanks dropped."""
    if value is None:
        return ()
    items: list[Any] = value if isinstance(value, list) else str(value).split(",")
    tags: list[str] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, list | dict):
            continue
        tag = " ".join(str(item).split())
        if tag and tag.lower() not in _NULLS and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tuple(tags)


def _flatten(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_flatten(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_flatten(item)}" for key, item in value.items())
    return str(value)


def decode_post(raw: bytes) -> tuple[str, list[str]]:
    """Bytes → text. UTF-8 (with or without BOM), UTF-16 with BOM, else Latin-1 with a warning.

    Raises ``ValueError`` for binary content.
    """
    warnings: list[str] = []
    # Drop a UTF-8 BOM up front, so a file that is not valid UTF-8 further on still has its front matter read.
    raw = raw.removeprefix(codecs.BOM_UTF8)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16"), ["file is UTF-16; read as such"]
        except UnicodeDecodeError as error:
            raise ValueError(f"not valid UTF-16: {error.reason}") from error
    sample = raw[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if sample and ((b"\x00" in sample and controls > len(sample) // 100) or controls > len(sample) // 10):
        raise ValueError("binary content, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = raw.decode("cp1252", errors="replace")
        warnings.append(f"not valid UTF-8 (byte {error.start}); read as Windows-1252/Latin-1")
    return text, warnings


def _read_bytes(path: Path) -> bytes:
    """Read a regular file without following a FIFO or device into a blocking open."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file")
        if info.st_size > MAX_POST_BYTES:
            raise ValueError(f"too large ({info.st_size:,} bytes; the limit is {MAX_POST_BYTES:,})")
        chunks: list[bytes] = []
        remaining = MAX_POST_BYTES + 1
        while remaining > 0 and (chunk := os.read(fd, min(remaining, 1 << 20))):
            chunks.append(chunk)
            remaining -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > MAX_POST_BYTES:
        raise ValueError(f"too large (over {MAX_POST_BYTES:,} bytes)")
    return data


def parse_post(text: str, post_id: str, path: Path, warnings: list[str] | None = None) -> Post:
    """Build a :class:`Post` from decoded text. Raises :class:`FrontMatterError` for bad YAML."""
    notes = list(warnings or ())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata: dict[str, object] = {}
    body = text.strip()
    # Lines before the YAML text proper: blank lines stripped above, plus any the fence regex ate,
    # so that YAML errors name the line of the file.
    fence = StrictYAMLHandler.FM_BOUNDARY.match(body)
    skipped = text[: len(text) - len(text.lstrip())] + (body[: fence.end()] if fence else "")
    handler = StrictYAMLHandler(line_offset=skipped.count("\n"))
    if _STARTS_WITH_FENCE.match(body):
        metadata, body = frontmatter.parse(body, handler=handler)
        if not metadata and _STARTS_WITH_FENCE.match(body):
            notes.append("front matter opened with --- but never closed; read as body")
    notes.extend(handler.warnings)
    name = path.name

    title = _as_text(metadata.get("title"))
    if title is None:
        title = title_from_file_name(name)
        if metadata:
            notes.append("no title; taken from the file name")
    elif isinstance(metadata.get("title"), list):
        notes.append("title is a list; its items were joined")
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1] + "…"
        notes.append(f"title longer than {MAX_TITLE_CHARS} characters; shortened")

    raw_date = metadata.get("date")
    date = parse_date(raw_date)
    if date is None:
        date = date_from_file_name(name)
        if raw_date is not None and _as_text(raw_date) is not None:
            fallback = "the file name" if date else "none"
            notes.append(f"date {str(raw_date)[:40]!r} not understood; using {fallback}")
        elif date is None:
            notes.append("no date")

    url = ""
    for key in URL_KEYS:
        if (value := _as_text(metadata.get(key))) is not None:
            url = value
            break
    extra = {
        str(key): _flatten(value)
        for key, value in metadata.items()
        if str(key).lower() not in _KNOWN_KEYS and value is not None
    }
    return Post(
        post_id=post_id,
        path=path,
        title=title,
        date=date,
        url=url,
        source=source_host(url),
        tags=parse_tags(metadata.get("tags")),
        extra=extra,
        body=body,
        warnings=tuple(notes),
    )


def load_post(root: Path, found: PostFile) -> Post | PostProblem:
    """Read one post, once; every failure becomes a :class:`PostProblem`, never an exception."""
    post_id = found.post_id
    try:
        raw = _read_bytes(root / post_id)
        digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        text, warnings = decode_post(raw)
        post = parse_post(text, post_id, found.path, warnings)
    except FrontMatterError as error:
        return PostProblem(post_id, error.reason, error.line, error.column)
    except FileNotFoundError:
        return PostProblem(post_id, "file disappeared while being read")
    except PermissionError:
        return PostProblem(post_id, "permission denied")
    except IsADirectoryError:
        return PostProblem(post_id, "not a regular file")
    except (OSError, ValueError) as error:
        return PostProblem(post_id, str(error) or type(error).__name__)
    except RecursionError:
        return PostProblem(post_id, "front matter nested too deeply")
    return replace(post, size=found.size, mtime_ns=found.mtime_ns, content_hash=digest)


def load_by_id(root: Path, post_id: str) -> Post | PostProblem:
    """The post ``post_id`` fresh from disk; ids that would leave ``root`` are refused."""
    relative = PurePosixPath(post_id)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return PostProblem(post_id, "not a post in this folder")
    path = root / relative
    try:
        info = path.stat()
    except OSError:
        return PostProblem(post_id, "file no longer exists")
    return load_post(root, PostFile(post_id, path, info.st_size, info.st_mtime_ns))


def _post_id(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def scan_corpus(root: Path) -> Iterator[PostFile | PostProblem]:
    """Find every ``*.md``/``*.markdown`` file below ``root``, recursively, in a stable order.

    Hidden folders and files are skipped. Symbolic links are followed only while they stay
    inside ``root``; loops are broken. Nothing is opened here: this is ``stat`` only.
    """
    root = Path(root)
    real_root = root.resolve()
    visited: set[tuple[int, int]] = set()
    stack: list[Path] = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            reason = "permission denied" if isinstance(error, PermissionError) else error.strerror
            yield PostProblem(_post_id(root, folder) if folder != root else ".", f"cannot list folder: {reason}")
            continue
        subfolders: list[Path] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            is_post_name = entry.name.lower().endswith(POST_SUFFIXES)
            try:
                if entry.is_symlink():
                    target = path.resolve()
                    if not target.is_relative_to(real_root):
                        if is_post_name or target.is_dir():
                            yield PostProblem(_post_id(root, path), "link leads outside the folder; skipped")
                        continue
                info = entry.stat()
            except (OSError, RuntimeError) as error:
                if is_post_name:
                    yield PostProblem(_post_id(root, path), f"cannot read: {getattr(error, 'strerror', None) or error}")
                continue
            if stat.S_ISDIR(info.st_mode):
                subfolders.append(path)
            elif is_post_name:
                if stat.S_ISREG(info.st_mode):
                    yield PostFile(_post_id(root, path), path, info.st_size, info.st_mtime_ns)
                else:
                    yield PostProblem(_post_id(root, path), "not a regular file (FIFO, device or socket)")
        stack.extend(reversed(subfolders))
