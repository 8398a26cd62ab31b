"""Time `playbook run` on each bundled sample clinic, stage by stage, and print the figures (`make bench`).

Not a test: it measures, it asserts nothing. This is the first part of `benchmarks/speed.py`
(start-up, notebooks, report, the analytics alone, and the CLI's wall time per sample); run that
script for the scaling and many-clinics figures too.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from speed import samples

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as out:
        samples(Path(out))
