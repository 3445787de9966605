"""Posts on disk: finding them, reading them leniently, and reporting the ones we cannot read.

A post is a Markdown file with optional YAML front matter. Reading never raises for a
bad file: it yields a :class:`PostProblem` (file, reason, line/column where known) and
the scan goes on. Nothing here ever writes to the posts folder.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import operator
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from index.dates import date_from_file_name, parse_date

POST_SUFFIXES = (".md", ".markdown")
#: Posts found between two calls of a scan's progress.
SCAN_PROGRESS_EVERY = 2000
MAX_POST_BYTES = 4 * 1024 * 1024
MAX_TITLE_CHARS = 500
LINK_LEAVES_ROOT = "link leads outside the folder; skipped"
#: How far ahead a post's date may be (time zones, a post scheduled for tomorrow) before it is not believed.
FUTURE_SLACK = timedelta(days=1)
URL_KEYS = ("tourl", "url", "link", "source_url")
_KNOWN_KEYS = {"title", "date", "tags", "layout", *URL_KEYS}
_NULLS = {"", "~", "null", "none"}
#: Bytes that do not occur in text files (C0 controls other than tab, newline, VT, FF and CR).
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])
_STARTS_WITH_FENCE = re.compile(r"\A-{3,}[ \t]*$", re.MULTILINE)
#: The lines that open and close the front matter: python-frontmatter's YAML boundary, which its YAML handler
#: splits on (a test checks they agree; the YAML reader is not imported to read a body).
FRONT_MATTER_FENCE = re.compile(r"^-{3,}\s*$", re.MULTILINE)
_TOP_HEADING = re.compile(r"[ ]{0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_CODE_FENCE = re.compile(r"[ ]{0,3}(?:```|~~~)")


@dataclass(frozen=True, slots=True)
class PostProblem:
    """A file that could not be loaded (``skipped``) or loaded with a caveat."""

    post_id: str
    reason: str
    line: int | None = None
    column: int | None = None
    skipped: bool = True
    #: The file could not be read at that moment (gone, moved, permissions, I/O): worth reading again
    #: next run even if its size and time have not changed (a chmod or a folder moved back changes neither).
    retry: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        where = self.post_id
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.reason}"


class PostFile(NamedTuple):
    """A candidate post found by the scan (its path is the root joined with ``post_id``), with the stat
    facts used for change detection. A named tuple: the scan makes one per post before every command-line
    search, and a frozen dataclass costs several times as much to build."""

    post_id: str
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
    """``2018-07-11-chinese-group-breaches.md`` → ``Chinese group breaches`` (bytes that are not UTF-8
    become placeholders: a title is text to show and store)."""
    name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", name.rsplit(".", 1)[0])
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
    if value is None or isinstance(value, dict):  # a mapping is not a list of tags (see parse_post)
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
    """Bytes → text. UTF-8 (with or without BOM), UTF-32 or UTF-16 with BOM, else Latin-1 with a warning.

    Raises ``ValueError`` for binary content.
    """
    warnings: list[str] = []
    # Drop a UTF-8 BOM up front, so a file that is not valid UTF-8 further on still has its front matter read.
    raw = raw.removeprefix(codecs.BOM_UTF8)
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16: FF FE starts both
        try:
            return raw.decode("utf-32"), ["file is UTF-32; read as such"]
        except UnicodeDecodeError as error:
            raise ValueError(f"not valid UTF-32: {error.reason}") from error
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


def first_heading(body: str) -> str | None:
    """The text of the body's first ``# heading`` (level one, outside code fences), if it has one."""
    in_fence = False
    for line in body.split("\n"):
        if _CODE_FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (heading := _TOP_HEADING.fullmatch(line)) and heading.group(1).strip():
            return heading.group(1).strip()
    return None


def _front_matter_and_body(text: str) -> tuple[str, str] | None:
    """The front matter and the body of stripped text that opens with a fence, split as python-frontmatter
    splits them; ``None`` when no second fence closes the front matter (then it is all body)."""
    parts = FRONT_MATTER_FENCE.split(text, 2)
    return (parts[1], parts[2].strip()) if len(parts) == 3 else None


def post_body(root: Path, post_id: str) -> str | None:
    """The body of post ``post_id`` as :func:`load_by_id` gives it, without reading the front matter's YAML:
    highlights need the body only, and importing the YAML reader costs a one-query process more than reading
    the posts; ``None`` when the file cannot be read."""
    relative = PurePosixPath(post_id)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return None
    try:
        text, _ = decode_post(_read_bytes(_inside(root, post_id)))
    except (OSError, ValueError, RuntimeError):
        return None
    body = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _STARTS_WITH_FENCE.match(body) and (parts := _front_matter_and_body(body)) is not None:
        body = parts[1]
    return body


def parse_post(text: str, post_id: str, path: Path, warnings: list[str] | None = None) -> Post:
    """Build a :class:`Post` from decoded text. Raises :class:`FrontMatterError` for bad YAML."""
    from index.frontmatter_yaml import StrictYAMLHandler  # the YAML reader: imported by the first post read

    notes = list(warnings or ())
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    metadata: dict[str, object] = {}
    body = text.strip()
    # Lines before the YAML text proper: blank lines stripped above, plus any the fence regex ate,
    # so that YAML errors name the line of the file.
    fence = FRONT_MATTER_FENCE.match(body)
    skipped = text[: len(text) - len(text.lstrip())] + (body[: fence.end()] if fence else "")
    handler = StrictYAMLHandler(line_offset=skipped.count("\n"))
    if _STARTS_WITH_FENCE.match(body):
        if (parts := _front_matter_and_body(body)) is not None:
            front_matter, body = parts
            loaded = handler.load(front_matter)
            if isinstance(loaded, dict):
                metadata.update(loaded)
        if not metadata and _STARTS_WITH_FENCE.match(body):
            notes.append("front matter opened with --- but never closed; read as body")
    notes.extend(handler.warnings)
    name = path.name

    title = _as_text(metadata.get("title"))
    if title is None and not metadata:
        title = first_heading(body)  # plain Markdown: its own heading names it better than the file
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

    raw_tags = metadata.get("tags")
    if isinstance(raw_tags, dict):
        notes.append("tags is a mapping, not a list; ignored")

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
        tags=parse_tags(raw_tags),
        extra=extra,
        body=body,
        warnings=tuple(notes),
    )


class _LeavesRoot(ValueError):
    """The post's path (after its links) is outside the folder: a link the scan would have refused."""


def _inside(root: Path, post_id: str) -> Path:
    """The real path of ``root / post_id``, refused when a link leads it out of ``root``: a post swapped
    for such a link after the scan must not be shown (it could be any file the user can read)."""
    real = (root / id_path(post_id)).resolve()
    if not real.is_relative_to(root.resolve()):
        raise _LeavesRoot(LINK_LEAVES_ROOT)
    return real


def load_post(root: Path, found: PostFile) -> Post | PostProblem:
    """Read one post, once; every failure becomes a :class:`PostProblem`, never an exception."""
    from index.frontmatter_yaml import FrontMatterError

    post_id = found.post_id
    path = root / id_path(post_id)
    try:
        raw = _read_bytes(_inside(root, post_id))
        digest = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        text, warnings = decode_post(raw)
        post = parse_post(text, post_id, path, warnings)
    except FrontMatterError as error:
        return PostProblem(post_id, error.reason, error.line, error.column)
    except FileNotFoundError:
        return PostProblem(post_id, "file disappeared while being read", retry=True)
    except PermissionError:
        return PostProblem(post_id, "permission denied", retry=True)
    except IsADirectoryError:
        return PostProblem(post_id, "not a regular file")
    except RecursionError:
        return PostProblem(post_id, "front matter nested too deeply")
    except OSError as error:
        return PostProblem(post_id, error.strerror or str(error) or type(error).__name__, retry=True)
    except (ValueError, RuntimeError) as error:  # RuntimeError: a symlink loop met by resolve()
        return PostProblem(post_id, str(error) or type(error).__name__)
    post = replace(post, size=found.size, mtime_ns=found.mtime_ns, content_hash=digest)
    return _not_in_the_future(post)


def _not_in_the_future(post: Post) -> Post:
    """A post dated more than :data:`FUTURE_SLACK` ahead (a typo, a placeholder) would sit at the top of the
    newest-first list for years: it is dated by its file's modification time instead, with a warning."""
    date = post.date
    if date is None:
        return post
    naive = date.astimezone(UTC).replace(tzinfo=None) if date.tzinfo else date
    if naive <= datetime.now(UTC).replace(tzinfo=None) + FUTURE_SLACK:
        return post
    file_time = datetime.fromtimestamp(post.mtime_ns / 1e9, UTC).replace(tzinfo=None, microsecond=0)
    note = f"date {naive:%Y-%m-%d} is in the future; dated by the file's time ({file_time:%Y-%m-%d}) instead"
    return replace(post, date=file_time, warnings=(*post.warnings, note))


def load_by_id(root: Path, post_id: str) -> Post | PostProblem:
    """The post ``post_id`` fresh from disk; ids that would leave ``root`` are refused."""
    relative = PurePosixPath(post_id)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return PostProblem(post_id, "not a post in this folder")
    path = root / id_path(post_id)
    try:
        info = path.stat()
    except OSError:
        return PostProblem(post_id, "file no longer exists")
    return load_post(root, PostFile(post_id, info.st_size, info.st_mtime_ns))


#: A file name's bytes that are not UTF-8 come from ``os.fsdecode`` as lone surrogates (U+DC80–U+DCFF),
#: which SQLite, whoosh and terminals refuse. In a post id each becomes this mark followed by the same byte
#: moved to U+F780–U+F7FF (a mark in the name itself is doubled), so every id is plain text and still
#: names exactly one file: :func:`id_path` gives the name back.
_ID_MARK = "\uf8ff"
_SURROGATE_BYTES = re.compile("[\udc80-\udcff\uf8ff]")
_MARKED = re.compile("\uf8ff([\uf780-\uf7ff\uf8ff])")


def _mark(match: re.Match[str]) -> str:
    char = match.group()
    return _ID_MARK + (char if char == _ID_MARK else chr(ord(char) - 0xDC00 + 0xF700))


def _unmark(match: re.Match[str]) -> str:
    char = match.group(1)
    return char if char == _ID_MARK else chr(ord(char) - 0xF700 + 0xDC00)


def id_path(post_id: str) -> str:
    """The relative file name (``os.fsdecode`` form) a post id stands for."""
    return _MARKED.sub(_unmark, post_id) if _ID_MARK in post_id else post_id


def display_id(post_id: str) -> str:
    """A post id to show: its file name with each byte that is not UTF-8 as one placeholder."""
    return id_path(post_id).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _id_part(name: str) -> str:
    """One file or folder name as it appears in a post id (bytes that are not UTF-8 marked)."""
    return _SURROGATE_BYTES.sub(_mark, name)


def _within(target: str, real_root: str) -> bool:
    """``target`` (a resolved path) is ``real_root`` or below it."""
    return target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)


_name = operator.attrgetter("name")


@dataclass(frozen=True, slots=True)
class Scan:
    """What :func:`scan_posts` found, in scan order: each post as one line ``id\\0size\\0mtime_ns`` (see
    :func:`fact_line`), each file or folder it could not use as a :class:`PostProblem`.

    Lines rather than :class:`PostFile` tuples: the no-change check before every command-line search only
    digests them (index/freshness.py), and at 100k posts a tuple per post cost a good part of that check.
    """

    items: list[str | PostProblem]

    def lines(self) -> list[str]:
        return [item for item in self.items if isinstance(item, str)]

    def problems(self) -> list[PostProblem]:
        return [item for item in self.items if not isinstance(item, str)]

    def files(self) -> list[PostFile]:
        return [post_file(item) for item in self.lines()]


def fact_line(post_id: str, size: int, mtime_ns: int) -> str:
    """A post's stat facts as one line (a post id holds no NUL: a file name cannot)."""
    return f"{post_id}\0{size}\0{mtime_ns}"


def post_file(line: str) -> PostFile:
    """The :class:`PostFile` of a line of :class:`Scan`."""
    post_id, size, mtime_ns = line.rsplit("\0", 2)
    return PostFile(post_id, int(size), int(mtime_ns))


def scan_corpus(root: Path) -> Iterator[PostFile | PostProblem]:
    """Every post and problem of :func:`scan_posts`, in its order, posts as :class:`PostFile`."""
    for item in scan_posts(root).items:
        yield post_file(item) if isinstance(item, str) else item


def scan_posts(root: Path, progress: Callable[[int], None] | None = None) -> Scan:
    """Find every ``*.md``/``*.markdown`` file below ``root``, recursively, in a stable order.

    Hidden folders and files are skipped. Symbolic links are followed only while they stay
    inside ``root``; loops are broken. Nothing is opened here: this is ``stat`` only, on plain
    strings, and only for posts and links (folders are known from the listing): at 100k posts the
    scan runs before every command-line search, so it must stay cheap. ``progress`` is told the
    posts found so far every :data:`SCAN_PROGRESS_EVERY`.
    """
    root = Path(root)
    top = os.fspath(root)
    real_root = os.path.realpath(top)
    visited: set[tuple[int, int]] = set()
    stack: list[tuple[str, str]] = [(top, "")]  # (folder, its post-id prefix: "" or "a/b/")
    items: list[str | PostProblem] = []
    add = items.append
    found = 0
    while stack:
        folder, prefix = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=_name)
        except OSError as error:
            reason = "permission denied" if isinstance(error, PermissionError) else error.strerror
            add(PostProblem(prefix.rstrip("/") or ".", f"cannot list folder: {reason}"))
            continue
        subfolders: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            post_id = prefix + (name if name.isascii() else _id_part(name))  # the check is cheaper than the regex
            is_post_name = name.lower().endswith(POST_SUFFIXES)
            if is_post_name and entry.is_file(follow_symlinks=False):  # a regular file by its listing: one lstat
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError as error:
                    add(PostProblem(post_id, f"cannot read: {error.strerror or error}"))
                    continue
                add(f"{post_id}\0{info.st_size}\0{info.st_mtime_ns}")  # fact_line, inlined: once per post
                found += 1
                if progress is not None and not found % SCAN_PROGRESS_EVERY:
                    progress(found)
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(entry.path)
                    if not _within(target, real_root):
                        if is_post_name or os.path.isdir(target):
                            add(PostProblem(post_id, LINK_LEAVES_ROOT))
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    subfolders.append((entry.path, post_id + "/"))
                    continue
                elif not is_post_name:
                    continue
                info = entry.stat()
            except OSError as error:
                if is_post_name:
                    add(PostProblem(post_id, f"cannot read: {error.strerror or error}"))
                continue
            if stat.S_ISDIR(info.st_mode):
                subfolders.append((entry.path, post_id + "/"))
            elif is_post_name:
                if stat.S_ISREG(info.st_mode):
                    add(fact_line(post_id, info.st_size, info.st_mtime_ns))
                    found += 1
                    if progress is not None and not found % SCAN_PROGRESS_EVERY:
                        progress(found)
                else:
                    add(PostProblem(post_id, "not a regular file (FIFO, device or socket)"))
        stack.extend(reversed(subfolders))
    return Scan(items)
