"""Where the time of one clinic's `playbook run` goes: measured with cProfile, not guessed.

Two profiles, because a run is two processes:

* the parent (`playbook.runner.run_clinic`): starting the kernel, papermill and nbclient driving it,
  waiting on it, building the report;
* the kernel's work, replayed in this process: every chapter's code cells run in an IPython shell
  (Agg backend), so cProfile sees the imports, the clinic's load, the analytics and the charts.

    python benchmarks/profile_run.py [CLINIC_DIR]      # default: the bundled general sample
"""
from __future__ import annotations

import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

from playbook.config import SAMPLES_DIR

# What the kernel's time is spent on: (label, a regular expression for the profiled function).
KERNEL_PARTS = (
    ("imports of the analysis stack", r"^warm_up$"),
    ("reading the exports (load_clinic)", r"playbook/clinic\.py:\d+\(load_clinic\)"),
    ("analytics: KPIs", r"playbook/kpis\.py:\d+\(clinic_kpis\)"),
    ("analytics: diagnosis sections", r"playbook/diagnosis\.py:\d+\(section\)"),
    ("analytics: break-even, evaluation, prescriptions",
     r"playbook/(breakeven|evaluate|prescribe)\.py:\d+\((breakeven|history|evaluate_intervention|prescribe)\)"),
    ("charts: building the figures (results' plot methods)", r"playbook/\w+\.py:\d+\(plot\)"),
    ("charts: rendering them to PNG (savefig)", r"matplotlib/figure\.py:\d+\(savefig\)"),
)


def profile_parent(clinic: Path, out: Path) -> None:
    from playbook.runner import run_clinic

    profiler = cProfile.Profile()
    profiler.enable()
    run = run_clinic(clinic, out)
    profiler.disable()
    print("## parent process (run_clinic), stages in seconds")
    print("   " + ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items()))
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"runner\.py|report\.py:\d+\(build|papermill/execute\.py|"
                                                r"channels\.py:\d+\(get_msg|_embedded_font_css|load_clinic", 14)


def profile_kernel(clinic: Path) -> None:
    os.environ["MPLBACKEND"] = "agg"
    import nbformat
    from IPython.core.interactiveshell import InteractiveShell

    from playbook.runner import chapters

    shell = InteractiveShell.instance()
    profiler = cProfile.Profile()
    seconds: dict[str, float] = {}
    tick = time.perf_counter()
    profiler.enable()
    shell.run_cell("import pandas, seaborn, statsmodels.api, playbook.kpis, playbook.chapter")
    seconds["imports"] = time.perf_counter() - tick
    for path in chapters():
        tick = time.perf_counter()
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            shell.run_cell(cell.source, silent=True)
            if "parameters" in cell.metadata.get("tags", []):  # papermill's injected parameters
                shell.run_cell(f"clinic_dir = {str(clinic)!r}; lang = None", silent=True)
        seconds[path.stem] = time.perf_counter() - tick
    profiler.disable()
    total = sum(seconds.values())
    print(f"\n## the kernel's work, replayed in one process: {total:.1f}s")
    print("   " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))
    stats = pstats.Stats(profiler).stats
    print(f"   {'imports of the analysis stack':52} {seconds['imports']:6.2f}s")
    for label, pattern in KERNEL_PARTS[1:]:
        matched = [(func, row) for func, row in stats.items() if re.search(pattern, f"{func[0]}:{func[1]}({func[2]})")]
        cumulative = sum(row[3] for _, row in matched)
        calls = sum(row[1] for _, row in matched)
        print(f"   {label:52} {cumulative:6.2f}s  ({calls} calls)")
    print("   (these lines do not overlap; the rest is tables, text and display)")


def main() -> None:
    clinic = Path(sys.argv[1] if len(sys.argv) > 1 else SAMPLES_DIR / "general_clinic").resolve()
    with tempfile.TemporaryDirectory() as out:
        profile_parent(clinic, Path(out))
    profile_kernel(clinic)


if __name__ == "__main__":
    main()
