"""The speed budget: a whole run of a sample clinic against one papermill notebook that only imports
pandas, seaborn and statsmodels, both timed the same way (wall seconds of a fresh command, the median
of ``--repeat`` runs, taken in turn so that the machine's load falls on both alike).

    python benchmarks/budget.py [SAMPLE ...] [--repeat 3]

Prints the baseline, each sample's run and the ratio the project keeps under 3.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("samples", nargs="*", default=["general_clinic", "children_clinic"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell("import pandas\nimport seaborn\nimport statsmodels.api")]
        nbformat.write(notebook, tmp / "baseline.ipynb")
        baseline_cmd = [str(BIN / "papermill"), "--log-level", "ERROR", "-k", "python3", str(tmp / "baseline.ipynb"),
                        str(tmp / "out.ipynb")]
        runs = {s: [str(BIN / "playbook"), "run", str(ROOT / "data_samples" / s), "--out", str(tmp / "reports"),
                    "--force"] for s in args.samples}
        times: dict[str, list[float]] = {"baseline": [], **{s: [] for s in runs}}
        for _ in range(args.repeat):
            times["baseline"].append(_wall(baseline_cmd))
            for sample, command in runs.items():
                times[sample].append(_wall(command))
    base = statistics.median(times["baseline"])
    print(f"papermill notebook importing pandas, seaborn, statsmodels: {base:.2f} s (median of {args.repeat})")
    for sample in runs:
        wall = statistics.median(times[sample])
        print(f"playbook run {sample:<16} {wall:6.2f} s   {wall / base:5.1f}x the baseline")


if __name__ == "__main__":
    main()
