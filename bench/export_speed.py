"""`export -o x.py` against `check` on the same file (issue 11: export under 3x check at 100 and
5,000 nodes; DESIGN §7).

Writing `.py` without `--weights` is text from the registry: it validates the design by graph
analysis, as `check` does, and needs neither torch nor the built model. Each sample is a fresh
`python main.py check FILE` or `python main.py export FILE -o OUT.py`, timed from the start of
the process to its exit, so interpreter start-up and imports count, as they do for the user.
The two run alternately, repeat by repeat; figures are medians and `ratio` is export / check.
The designs are bench/inference.py's ResNet-like chains (conv blocks with skip connections and
an MLP head).

    python bench/export_speed.py [--nodes 100 5000] [--repeats 7]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.inference import build
from graph.project import Project, save


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return elapsed


def measure(nodes: int, repeats: int, folder: Path) -> tuple[float, float]:
    design = folder / f"chain{nodes}.loom"
    save(Project(name=f"Chain {nodes}", graph=build(nodes)), design)
    out = folder / f"chain{nodes}.py"
    check, export = [], []
    for i in range(repeats):
        runs = [("check", ["check", str(design)]), ("export", ["export", str(design), "-o", str(out)])]
        for kind, args in runs if i % 2 == 0 else runs[::-1]:
            (check if kind == "check" else export).append(timed(args))
    return statistics.median(check), statistics.median(export)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[100, 5000])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min); "
          f"Python {platform.python_version()}, torch {metadata.version('torch')} (not imported by either)")
    print(f"{'nodes':>6}{'check':>10}{'export .py':>12}{'ratio':>8}   target: ratio < 3")
    with tempfile.TemporaryDirectory(prefix="layerloom-export-") as tmp:
        for nodes in args.nodes:
            check, export = measure(nodes, args.repeats, Path(tmp))
            print(f"{nodes:>6}{check:>9.3f}s{export:>11.3f}s{export / check:>8.2f}")


if __name__ == "__main__":
    main()
