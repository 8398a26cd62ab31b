"""How long reading a clinic's exports takes: `load_clinic` on each bundled sample, in seconds.

Not a test: it measures and prints. Each repeat reads the folder afresh (the in-memory cache is
emptied), in one process whose imports are already paid; the median of the repeats is the figure.
The issue-13 budget: reading the general sample may be at most 10% slower than before the untidy
export handling (0.80 s median on this machine before it).

    python benchmarks/load.py                  # both samples, 7 repeats
    python benchmarks/load.py --repeats 15 general_clinic
"""
from __future__ import annotations

import argparse
import statistics
import time

from playbook import clinic as clinic_module
from playbook.config import SAMPLES_DIR


def time_load(name: str, repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each repeat (CPU time is the steadier figure on a shared machine)."""
    folder = SAMPLES_DIR / name
    wall, cpu = [], []
    for _ in range(repeats):
        clinic_module._CACHE.clear()
        tick, tock = time.perf_counter(), time.process_time()
        clinic_module.load_clinic(folder, strict=False)
        wall.append(time.perf_counter() - tick)
        cpu.append(time.process_time() - tock)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", default=["general_clinic", "children_clinic"])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    time_load(args.samples[0], 1)  # warm the imports and the file cache
    for name in args.samples:
        wall, cpu = time_load(name, args.repeats)
        print(f"{name}: load_clinic median {statistics.median(wall):.3f} s wall (min {min(wall):.3f}), "
              f"{statistics.median(cpu):.3f} s CPU (min {min(cpu):.3f}), {args.repeats} repeats")


if __name__ == "__main__":
    main()
