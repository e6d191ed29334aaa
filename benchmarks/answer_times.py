"""How long basin takes to answer the commands that read a finished run: ``basin ls``,
``basin status RUN``, ``basin best RUN`` and ``basin --version`` (target: under 1 s each), and
whether each imported Ray Tune or torch on the way (it should import neither).

    python -m benchmarks.answer_times runs/minilm-lora-demo-<timestamp>   # median of 5 each
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROBE = ("import json, sys; from search.cli.main import main; code = main(sys.argv[1:]); "
         "print(json.dumps({'torch': 'torch' in sys.modules, 'ray.tune': 'ray.tune' in "
         "sys.modules}), file=sys.stderr)")


def commands(run: Path) -> dict[str, list[str]]:
    return {"basin ls": ["ls", str(run.parent)], "basin status RUN": ["status", str(run)],
            "basin best RUN": ["best", str(run)], "basin --version": ["--version"]}


def seconds(argv: list[str], repeats: int) -> list[float]:
    """Wall seconds of ``basin ARGV`` as a user runs it (the console script), ``repeats`` times."""
    basin = shutil.which("basin") or sys.exit("basin is not installed (pip install -e .)")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([basin, *argv], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def imported(argv: list[str]) -> dict[str, bool]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if line.startswith("{")]
    # argparse's --version exits before the probe prints: nothing but the parser was imported.
    return json.loads(lines[-1]) if lines else {"torch": False, "ray.tune": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished run directory")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| command | median s | max s | imports torch | imports ray.tune |")
    print("| --- | --- | --- | --- | --- |")
    for name, argv in commands(args.run).items():
        times, modules = seconds(argv, args.repeats), imported(argv)
        print(f"| `{name}` | {statistics.median(times):.2f} | {max(times):.2f} | "
              f"{'yes' if modules['torch'] else 'no'} | "
              f"{'yes' if modules['ray.tune'] else 'no'} |")


if __name__ == "__main__":
    main()
