"""Machine instructions the extractor executes per byte of the sample bodies: a figure the machine's load
does not move, to compare revisions (or checkouts) on a shared machine where CPU time varies from run to run.

    .venv/bin/python bench/extraction_instructions.py [--root DIR] [--passes N] [--cpu]

Runs a child Python under ``valgrind --tool=callgrind`` twice, once extracting every sample body ``N`` times
and once not at all (imports, knowledge load and start-up are the same in both), and divides the difference
by ``N``. ``--root`` measures another checkout's ``index`` package (a ``git worktree`` of an older commit) on
this tree's sample posts, read with python-frontmatter so that any revision reads the same bodies. ``--cpu``
times the same loop without valgrind instead (CPU seconds of the child, in MB/s).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import sys
import time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import frontmatter
from index.extract import extract
bodies = [b for b in (frontmatter.load(p).content for p in sorted(Path(sys.argv[2]).glob("*.md"))) if b]
extract("warm up the knowledge")
began = time.process_time()
for _ in range(int(sys.argv[3])):
    for body in bodies:
        extract(body)
print(sum(len(body.encode("utf-8")) for body in bodies), time.process_time() - began)
"""


def instructions(root: Path, passes: int) -> tuple[int, int]:
    """(instructions executed, bytes per pass) of one child extracting every sample body ``passes`` times."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", _CHILD]
        done = subprocess.run(
            [*command, str(root), str(ROOT / "sample_posts"), str(passes)],
            capture_output=True,
            text=True,
            check=True,
        )
        total = re.search(r"^summary: (\d+)$", out.read_text(), re.M)
    if total is None:
        raise SystemExit("callgrind wrote no summary")
    return int(total.group(1)), int(done.stdout.split()[-2])


def cpu_rate(root: Path, passes: int) -> float:
    """MB/s of one child extracting every sample body ``passes`` times, by its CPU time."""
    command = [sys.executable, "-c", _CHILD, str(root), str(ROOT / "sample_posts"), str(passes)]
    size, seconds = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-2:]
    return int(size) * passes / float(seconds) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose index package is measured")
    parser.add_argument("--passes", type=int, default=2, help="extractions of every sample body (default 2)")
    parser.add_argument("--cpu", action="store_true", help="time the loop by CPU seconds instead (use --passes 20)")
    args = parser.parse_args()
    if args.cpu:
        print(f"{args.root}: {cpu_rate(args.root, args.passes):.2f} MB/s by CPU time ({args.passes} passes)")
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    instructions(args.root, 0)  # a first run may build the knowledge cache of that checkout
    base, _ = instructions(args.root, 0)
    work, size = instructions(args.root, args.passes)
    per_pass = (work - base) / args.passes
    print(f"{args.root}: {per_pass / 1e6:.1f} million instructions per pass over {size:,} bytes", end="")
    print(f" = {per_pass / size:,.0f} per byte")


if __name__ == "__main__":
    main()
