"""Every mention the extractor finds in the sample and blind posts, one line each: a fingerprint to diff
when changing how the extractor works (not what it finds).

    .venv/bin/python bench/extraction_dump.py > /tmp/before.txt
    # … change the extractor …
    .venv/bin/python bench/extraction_dump.py > /tmp/after.txt && diff /tmp/before.txt /tmp/after.txt

Each post is extracted as the app reads it (the body), as the raw file (front matter included), upper-cased
and lower-cased (other case rules fire), and all bodies joined into one text (sentences and lists across
posts); the quality table of ``bench/extraction_quality.py`` follows.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from extraction_quality import BLIND, DEV, evaluate, load_body, report  # noqa: E402

from index.extract import extract  # noqa: E402


def dump(label: str, text: str) -> list[str]:
    """One line per mention of ``text``."""
    return [
        f"{label}\t{m.kind}\t{m.start}\t{m.end}\t{m.text!r}\t{m.canonical!r}\t{m.ref!r}\t{m.role!r}"
        for m in extract(text)
    ]


def main() -> int:
    lines: list[str] = []
    bodies: list[str] = []
    for folder in (DEV[2], BLIND[2]):
        for path in sorted(folder.glob("*.md")):
            body = load_body(folder, path.name) or ""
            bodies.append(body)
            raw = path.read_text(encoding="utf-8")
            name = f"{folder.name}/{path.name}"
            for variant, text in (("body", body), ("raw", raw), ("upper", body.upper()), ("lower", body.lower())):
                lines.extend(dump(f"{name}:{variant}", text))
    lines.extend(dump("joined", "\n\n".join(bodies)))
    print("\n".join(lines))
    print(report([evaluate(DEV[1], DEV[2], DEV[0], True), evaluate(BLIND[1], BLIND[2], BLIND[0], True)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
