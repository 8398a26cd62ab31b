"""How long reading a clinic's exports takes: `load_clinic` on each bundled sample, in seconds.

Not a test: it measures and prints. Each repeat reads the folder afresh (the in-memory cache is
emptied), in one process whose imports are already paid; the median of the repeats is the figure,
in wall and in CPU seconds (CPU is the steadier one on a shared machine).

``--compare TREE`` puts this tree beside another checkout of the playbook (say, main before a change):
it alternates fresh processes of the two, each taking the fastest of a few loads of the general
sample, and prints both medians and the change. On a machine other sessions share, only such an
interleaved comparison tells a few percent apart.

    python benchmarks/load.py                          # both samples, 7 repeats
    python benchmarks/load.py --compare /work/main     # this tree against another, interleaved
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playbook import clinic as clinic_module
from playbook.config import SAMPLES_DIR

HERE = Path(__file__).resolve()


def time_load(name: str, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each repeat."""
    folder = SAMPLES_DIR / name
    wall, cpu = [], []
    for _ in range(repeats):
        clinic_module._CACHE.clear()
        tick, tock = time.perf_counter(), time.process_time()
        clinic_module.load_clinic(folder, strict=False)
        wall.append(time.perf_counter() - tick)
        cpu.append(time.process_time() - tock)
    return wall, cpu


def fastest_in(tree: Path, repeats: int) -> float:
    """The fastest CPU seconds of ``repeats`` loads of the general sample, in a fresh process on ``tree``."""
    done = subprocess.run([sys.executable, str(HERE), "--repeats", str(repeats), "--fastest", "general_clinic"],
                          capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(tree)})
    return float(done.stdout.split()[-1])


def compare(other: Path, rounds: int, repeats: int) -> None:
    here = HERE.parents[1]
    times: dict[Path, list[float]] = {other: [], here: []}
    for _ in range(rounds):
        for tree in times:
            times[tree].append(fastest_in(tree, repeats))
    for tree, values in times.items():
        print(f"{tree}: general_clinic load_clinic {statistics.median(values):.3f} s CPU median of {rounds} "
              f"processes (each the fastest of {repeats} loads), min {min(values):.3f} s")
    change = statistics.median(times[here]) / statistics.median(times[other]) - 1
    print(f"this tree against {other}: {change:+.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", default=["general_clinic", "children_clinic"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="another checkout of the playbook to time against, interleaved")
    parser.add_argument("--rounds", type=int, default=12, help="--compare: processes per tree")
    parser.add_argument("--fastest", action="store_true", help=argparse.SUPPRESS)  # one figure, for --compare
    args = parser.parse_args()
    if args.compare:
        compare(args.compare.resolve(), args.rounds, min(args.repeats, 5))
        return
    time_load(args.samples[0], 1)  # warm the imports and the file cache
    for name in args.samples:
        wall, cpu = time_load(name, args.repeats)
        if args.fastest:
            print(f"{min(cpu):.4f}")
            continue
        print(f"{name}: load_clinic median {statistics.median(wall):.3f} s wall (min {min(wall):.3f}), "
              f"{statistics.median(cpu):.3f} s CPU (min {min(cpu):.3f}), {args.repeats} repeats")


if __name__ == "__main__":
    main()
