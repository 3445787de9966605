"""The folder and its files misbehaving: missing, unreadable, racing, looping, huge, odd kinds and odd names."""

from __future__ import annotations

import errno
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index import posts
from index.posts import (
    MAX_POST_BYTES,
    Post,
    PostFile,
    PostProblem,
    _id_part,
    display_id,
    id_path,
    load_by_id,
    load_post,
    scan_corpus,
)
from index.sanitize import display_safe
from tests.helpers import FolderSnapshot, WritePost

Snapshot = Callable[[Path], FolderSnapshot]
GOOD = "---\ntitle: Good post\ndate: 2018-07-11\n---\nbody"


def load_all(root: Path) -> list[Post | PostProblem]:
    return [load_post(root, item) if isinstance(item, PostFile) else item for item in scan_corpus(root)]


def by_id(results: list[Post | PostProblem]) -> dict[str, Post | PostProblem]:
    return {item.post_id: item for item in results}


def found_files(root: Path) -> dict[str, PostFile]:
    return {item.post_id: item for item in scan_corpus(root) if isinstance(item, PostFile)}


def run_with_timeout(action: Callable[[], object], seconds: float = 5.0) -> object:
    """Run ``action`` in a daemon thread so a blocking ``open()`` fails the test instead of hanging it."""
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(action()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked (a FIFO was opened?)"
    return box[0]


@pytest.fixture
def restore_modes(tmp_path: Path) -> Iterator[None]:
    """Give everything back its write permission so pytest can clean up."""
    yield
    for folder, dirs, files in os.walk(tmp_path):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, 0o755)
    os.chmod(tmp_path, 0o755)


# --- the folder ---------------------------------------------------------------------------------


def test_empty_folder(tmp_path: Path) -> None:
    assert list(scan_corpus(tmp_path)) == []


def test_missing_folder_is_one_problem_for_the_root(tmp_path: Path) -> None:
    (problem,) = scan_corpus(tmp_path / "nowhere")
    assert isinstance(problem, PostProblem)
    assert problem.post_id == "."
    assert problem.reason == "cannot list folder: No such file or directory"


def test_file_given_as_folder_is_one_problem_for_the_root(tmp_path: Path, write_post: WritePost) -> None:
    path = write_post(tmp_path, "a.md", GOOD)
    (problem,) = scan_corpus(path)
    assert isinstance(problem, PostProblem)
    assert problem.post_id == "."
    assert problem.reason == "cannot list folder: Not a directory"


def test_scan_is_recursive_stable_and_skips_hidden_and_other_files(tmp_path: Path, write_post: WritePost) -> None:
    for name in ["b.md", "a.markdown", "C.MD", "_posts/2018/x.md", "notes.txt", ".hidden.md", ".git/y.md", "img.png"]:
        write_post(tmp_path, name, GOOD)
    first = list(scan_corpus(tmp_path))
    assert first == list(scan_corpus(tmp_path))
    assert all(isinstance(item, PostFile) for item in first)
    assert sorted(item.post_id for item in first) == ["C.MD", "_posts/2018/x.md", "a.markdown", "b.md"]


def test_unlistable_subfolder_is_a_problem_and_the_rest_loads(
    tmp_path: Path, write_post: WritePost, restore_modes: None
) -> None:
    write_post(tmp_path, "ok.md", GOOD)
    write_post(tmp_path, "locked/secret.md", GOOD)
    os.chmod(tmp_path / "locked", 0)
    if os.access(tmp_path / "locked", os.R_OK):
        pytest.skip("permissions are not enforced for this user (root)")
    results = by_id(load_all(tmp_path))
    assert isinstance(results["ok.md"], Post)
    assert results["locked"] == PostProblem("locked", "cannot list folder: permission denied")


def test_unreadable_file_is_a_problem(tmp_path: Path, write_post: WritePost, restore_modes: None) -> None:
    write_post(tmp_path, "ok.md", GOOD)
    os.chmod(write_post(tmp_path, "locked.md", GOOD), 0)
    if os.access(tmp_path / "locked.md", os.R_OK):
        pytest.skip("permissions are not enforced for this user (root)")
    results = by_id(load_all(tmp_path))
    assert isinstance(results["ok.md"], Post)
    assert results["locked.md"] == PostProblem("locked.md", "permission denied")


def test_permission_denied_on_open_is_a_problem(
    tmp_path: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated, so it runs as root too: the open itself is refused."""
    write_post(tmp_path, "locked.md", GOOD)
    write_post(tmp_path, "ok.md", GOOD)
    real_open = os.open

    def refusing_open(path: os.PathLike[str] | str, flags: int, *args: int, **kwargs: int) -> int:
        if os.fspath(path).endswith("locked.md"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    results = by_id(load_all(tmp_path))
    assert results["locked.md"] == PostProblem("locked.md", "permission denied")
    assert isinstance(results["ok.md"], Post)


def test_permission_denied_on_listing_is_a_problem(
    tmp_path: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_post(tmp_path, "ok.md", GOOD)
    write_post(tmp_path, "locked/secret.md", GOOD)
    real_scandir = os.scandir

    def refusing_scandir(path: str | os.PathLike[str]) -> object:
        if os.fspath(path).endswith("locked"):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    results = by_id(load_all(tmp_path))
    assert results["locked"] == PostProblem("locked", "cannot list folder: permission denied")
    assert isinstance(results["ok.md"], Post)


def test_read_only_folder_loads_and_is_untouched(
    tmp_path: Path, write_post: WritePost, snapshot_folder: Snapshot, restore_modes: None
) -> None:
    write_post(tmp_path, "_posts/2018-07-11-a.md", GOOD)
    write_post(tmp_path, "b.md", "---\n- not a mapping\n---\n")
    for path in [tmp_path / "_posts/2018-07-11-a.md", tmp_path / "b.md"]:
        os.chmod(path, 0o444)
    for folder in [tmp_path / "_posts", tmp_path]:
        os.chmod(folder, 0o555)
    before = snapshot_folder(tmp_path)
    results = by_id(load_all(tmp_path))
    assert isinstance(results["_posts/2018-07-11-a.md"], Post)
    assert isinstance(results["b.md"], PostProblem)
    assert snapshot_folder(tmp_path) == before


# --- races between scan and read ----------------------------------------------------------------


def test_file_deleted_between_scan_and_load(tmp_path: Path, write_post: WritePost) -> None:
    path = write_post(tmp_path, "gone.md", GOOD)
    found = found_files(tmp_path)["gone.md"]
    path.unlink()
    assert load_post(tmp_path, found) == PostProblem("gone.md", "file disappeared while being read")


def test_file_rewritten_between_scan_and_load_gives_the_new_content(tmp_path: Path, write_post: WritePost) -> None:
    write_post(tmp_path, "x.md", GOOD)
    found = found_files(tmp_path)["x.md"]
    write_post(tmp_path, "x.md", "---\ntitle: Rewritten, and much longer than before\n---\nnew body")
    loaded = load_post(tmp_path, found)
    assert isinstance(loaded, Post)
    assert (loaded.title, loaded.body) == ("Rewritten, and much longer than before", "new body")
    # The stat facts stay those of the scan, so the next incremental run sees a change and re-reads.
    assert (loaded.size, loaded.mtime_ns) == (found.size, found.mtime_ns)


def test_file_replaced_by_a_fifo_after_the_scan_is_never_opened_blocking(tmp_path: Path, write_post: WritePost) -> None:
    path = write_post(tmp_path, "x.md", GOOD)
    found = found_files(tmp_path)["x.md"]
    path.unlink()
    os.mkfifo(path)
    result = run_with_timeout(lambda: load_post(tmp_path, found))
    assert result == PostProblem("x.md", "not a regular file")


def test_file_grown_past_the_cap_after_the_scan(tmp_path: Path, write_post: WritePost) -> None:
    path = write_post(tmp_path, "x.md", GOOD)
    found = found_files(tmp_path)["x.md"]
    with path.open("r+b") as handle:
        handle.truncate(MAX_POST_BYTES + 1)
    result = load_post(tmp_path, found)
    assert isinstance(result, PostProblem) and result.reason.startswith("too large")


# --- links, special files, size, names ----------------------------------------------------------


def test_symlink_loops_end(tmp_path: Path, write_post: WritePost) -> None:
    write_post(tmp_path, "sub/real.md", GOOD)
    os.symlink("self.md", tmp_path / "self.md")
    os.symlink("ping.md", tmp_path / "pong.md")
    os.symlink("pong.md", tmp_path / "ping.md")
    os.symlink("..", tmp_path / "sub" / "up")  # folder loop back to the root
    os.symlink(".", tmp_path / "sub" / "here")
    results = run_with_timeout(lambda: by_id(load_all(tmp_path)))
    assert isinstance(results, dict)
    assert isinstance(results.pop("sub/real.md"), Post)
    assert set(results) == {"self.md", "ping.md", "pong.md"}
    for problem in results.values():
        assert isinstance(problem, PostProblem) and problem.reason.startswith("cannot read")


def test_symlinks_leading_outside_are_problems_and_not_followed(
    tmp_path: Path, write_post: WritePost, snapshot_folder: Snapshot
) -> None:
    root, outside = tmp_path / "posts", tmp_path / "outside"
    write_post(outside, "secret.md", "---\ntitle: SECRET\n---\nsecret")
    write_post(outside, "dir/deeper.md", "---\ntitle: SECRET\n---\nsecret")
    write_post(root, "ok.md", GOOD)
    write_post(root, "inside-target.md", GOOD)
    os.symlink(outside / "secret.md", root / "leak.md")
    os.symlink("../outside/dir", root / "leakdir")
    os.symlink("inside-target.md", root / "alias.md")  # a link that stays inside is followed
    os.symlink("missing.md", root / "dangling.md")
    before = snapshot_folder(tmp_path)
    results = by_id(load_all(root))
    assert results["leak.md"] == PostProblem("leak.md", "link leads outside the folder; skipped")
    assert results["leakdir"] == PostProblem("leakdir", "link leads outside the folder; skipped")
    dangling = results["dangling.md"]
    assert isinstance(dangling, PostProblem) and dangling.reason.startswith("cannot read")
    posts = {key: item for key, item in results.items() if isinstance(item, Post)}
    assert set(posts) == {"ok.md", "inside-target.md", "alias.md"}
    assert all(item.title != "SECRET" for item in posts.values())
    assert snapshot_folder(tmp_path) == before


def test_scan_progress_counts_linked_posts_too(
    tmp_path: Path, write_post: WritePost, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder of linked posts (a library kept elsewhere and linked in) reports progress like plain files."""
    for number in range(6):
        write_post(tmp_path, f"store/{number}.md", GOOD)
        os.symlink(f"store/{number}.md", tmp_path / f"link-{number}.md")
    monkeypatch.setattr(posts, "SCAN_PROGRESS_EVERY", 4)
    told: list[int] = []
    scan = posts.scan_posts(tmp_path, told.append)
    assert len(scan.files()) == 12
    assert told == [4, 8, 12]


def test_fifo_named_md_is_a_problem_and_never_opened(tmp_path: Path, write_post: WritePost) -> None:
    write_post(tmp_path, "ok.md", GOOD)
    os.mkfifo(tmp_path / "x.md")
    results = run_with_timeout(lambda: by_id(load_all(tmp_path)))
    assert isinstance(results, dict)
    assert results["x.md"] == PostProblem("x.md", "not a regular file (FIFO, device or socket)")
    assert isinstance(results["ok.md"], Post)


def test_directory_named_md_is_a_folder_not_a_post(tmp_path: Path, write_post: WritePost) -> None:
    write_post(tmp_path, "x.md/inner.md", GOOD)
    results = by_id(load_all(tmp_path))
    assert set(results) == {"x.md/inner.md"}
    assert isinstance(results["x.md/inner.md"], Post)
    info = (tmp_path / "x.md").stat()
    assert load_post(tmp_path, PostFile("x.md", info.st_size, info.st_mtime_ns)) == PostProblem(
        "x.md", "not a regular file"
    )


def test_50_mb_post_is_too_large(tmp_path: Path, write_post: WritePost, snapshot_folder: Snapshot) -> None:
    path = write_post(tmp_path, "huge.md", GOOD + "\n")
    with path.open("r+b") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: fast, no real disk use
    write_post(tmp_path, "ok.md", GOOD)
    before = snapshot_folder(tmp_path)
    results = by_id(load_all(tmp_path))
    huge = results["huge.md"]
    assert isinstance(huge, PostProblem) and huge.skipped
    assert huge.reason == f"too large (52,428,800 bytes; the limit is {MAX_POST_BYTES:,})"
    assert isinstance(results["ok.md"], Post)
    assert snapshot_folder(tmp_path) == before


def test_post_at_the_cap_loads(tmp_path: Path, write_post: WritePost) -> None:
    write_post(tmp_path, "big.md", GOOD + "\n" + "word " * ((MAX_POST_BYTES - len(GOOD) - 1) // 5))
    (loaded,) = load_all(tmp_path)
    assert isinstance(loaded, Post) and loaded.title == "Good post"


def test_non_utf8_file_names(tmp_path: Path, snapshot_folder: Snapshot) -> None:
    names = [b"caf\xe9.md", b"\xff\xfe-junk.md", b"dir-\xe9/inner.md"]
    try:
        os.mkdir(os.path.join(os.fsencode(tmp_path), b"dir-\xe9"))
        for name in names:
            with open(os.path.join(os.fsencode(tmp_path), name), "wb") as handle:
                handle.write(GOOD.replace("title: Good post\n", "").encode())
    except OSError as error:  # e.g. a filesystem that insists on UTF-8 names
        pytest.skip(f"filesystem refuses non-UTF-8 names: {error}")
    before = snapshot_folder(tmp_path)
    results = load_all(tmp_path)
    assert snapshot_folder(tmp_path) == before
    assert sorted(os.fsencode(id_path(item.post_id)) for item in results) == sorted(names)
    for item in results:
        assert isinstance(item, Post)
        assert item.path.is_file()  # the id round-trips to the file
        (item.post_id + item.title).encode("utf-8")  # plain text: SQLite and whoosh take it
        shown = display_safe(item.title) + display_safe(display_id(item.post_id))
        shown.encode("utf-8")  # displayable without UnicodeEncodeError
        assert "\ufffd" in shown
        assert isinstance(load_by_id(tmp_path, item.post_id), Post)


@given(st.binary(min_size=1, max_size=12).filter(lambda name: b"/" not in name and b"\x00" not in name))
def test_every_file_name_maps_to_one_plain_text_id_and_back(name: bytes) -> None:
    fs_name = os.fsdecode(name)
    post_id = _id_part(fs_name)
    post_id.encode("utf-8")
    assert id_path(post_id) == fs_name
    display_id(post_id).encode("utf-8")


def test_socket_named_md_is_a_problem(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.md"
    if len(os.fsencode(path)) > 100:
        pytest.skip("path too long for a unix socket")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(os.fspath(path))
        assert stat.S_ISSOCK(path.lstat().st_mode)
        (problem,) = scan_corpus(tmp_path)
    assert problem == PostProblem("s.md", "not a regular file (FIFO, device or socket)")


def test_huge_front_matter_under_the_size_cap_is_one_problem(tmp_path: Path, write_post: WritePost) -> None:
    """A 2.09M-item tag list (4 MB, under the post cap) used to take 15 s and 885 MB to parse."""
    write_post(tmp_path, "2020-01-01-huge.md", "---\ntags: [" + ",".join(["1"] * 2_090_000) + "]\n---\nbody\n")
    write_post(tmp_path, "2020-01-02-fine.md", "---\ntitle: Fine\n---\nbody\n")
    loaded = {item.post_id: item for item in load_all(tmp_path)}
    problem = loaded["2020-01-01-huge.md"]
    assert isinstance(problem, PostProblem) and "front matter too large" in problem.reason and problem.line == 1
    assert isinstance(loaded["2020-01-02-fine.md"], Post)


def test_a_post_swapped_for_a_link_after_the_scan_is_refused_when_loaded(tmp_path: Path) -> None:
    """The article used to follow such a link and show, say, /etc/passwd."""
    root = tmp_path / "posts"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the secret\n", encoding="utf-8")
    post = root / "2020-01-01-a.md"
    post.write_text(GOOD, encoding="utf-8")
    (found,) = found_files(root).values()
    (root / "sub").mkdir()
    (root / "sub" / "inside.md").write_text(GOOD, encoding="utf-8")
    post.unlink()
    post.symlink_to(secret)  # swapped after the scan
    for loaded in (load_post(root, found), load_by_id(root, found.post_id)):
        assert isinstance(loaded, PostProblem) and loaded.reason == "link leads outside the folder; skipped"
    post.unlink()
    post.symlink_to(root / "sub" / "inside.md")  # a link that stays inside is followed, as the scan does
    assert isinstance(load_by_id(root, found.post_id), Post)
    (root / "sub" / "loop.md").symlink_to(root / "sub" / "loop.md")
    assert isinstance(load_by_id(root, "sub/loop.md"), PostProblem)
