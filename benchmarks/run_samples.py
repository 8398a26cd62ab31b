"""Time `playbook run` on each bundled sample clinic, stage by stage, and print the figures.

Run with `make bench`. Not a test: it measures, it asserts nothing. Each clinic runs twice: the
first pays for cold caches (fonts, templates); both figures are printed. Stages as the runner times
them: check_input (kernel start and reading the exports, overlapped), one line per chapter,
report_html, report_pdf; `cli wall` is the whole command a consultant types, interpreter start-up
included.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playbook.config import SAMPLES_DIR
from playbook.runner import run_clinic


def main() -> None:
    clinics = sorted(p for p in SAMPLES_DIR.iterdir() if (p / "clinic.yaml").exists())
    with tempfile.TemporaryDirectory() as out:
        for clinic in clinics:
            for attempt in ("first", "second"):
                result = run_clinic(clinic, Path(out) / attempt)
                stages = "  ".join(f"{k} {v:5.2f}s" for k, v in result.timings.items())
                print(f"{clinic.name:16} {attempt:6}  {stages}")
            tick = time.perf_counter()
            subprocess.run([sys.executable, "-m", "playbook.cli", "run", str(clinic), "--out", str(Path(out) / "cli")],
                           check=True, capture_output=True)
            print(f"{clinic.name:16} cli wall {time.perf_counter() - tick:5.2f}s  "
                  f"(pdf {Path(out, 'cli', result.clinic_id, 'report.pdf').stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
