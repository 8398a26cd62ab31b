"""The workbench: the chapters, parameterised for one clinic, to open in JupyterLab (`playbook lab`).

A workbench notebook is the chapter with its one parameters cell set to the clinic (the chapter's own
default, a path relative to the repository, would be wrong from there). The trainer's workbench keeps
everything; the student's (``student=True``, in its own folder so a copy with solutions is never handed
out by mistake) leaves out the solution cells. A notebook already in the workbench is the user's work
and is never overwritten, except a chapter named in ``reset``, whose old copy is kept under ``.reset/``.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

# The runner first: it spares nbformat's import a URI grammar it never uses (seconds, see runner.py).
from .runner import KERNEL_NAME, chapters  # noqa: I001

import nbformat  # noqa: E402
from papermill.translators import translate_parameters  # noqa: E402

from .config import read_config  # noqa: E402
from .errors import PlaybookError  # noqa: E402

WORKBENCH, STUDENT_WORKBENCH = "workbench", "workbench-student"
RESET_DIR = ".reset"
SOLUTION_TAG = "solution"  # one of config.COURSE_TAGS
# Offline classrooms and containers: no news pop-up, no update check against the internet.
QUIET = ("--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")


def workbench_dir(folder: Path | str, out_root: Path | str, *, student: bool = False) -> Path:
    """``out_root/<clinic_id>/workbench`` (or ``workbench-student``)."""
    config = read_config(Path(folder))
    return Path(out_root).resolve() / config.clinic_id / (STUDENT_WORKBENCH if student else WORKBENCH)


def prepare_workbench(folder: Path | str, out_root: Path | str, *, student: bool = False,
                      reset: Iterable[str] = ()) -> Path:
    """Write the chapters for ``folder`` into its workbench and return the workbench's path.

    Parameters
    ----------
    folder : the clinic folder.
    out_root : where clinics' results go (``playbook run --out``).
    student : leave the solutions out (the student's workbench).
    reset : chapters to write again from the playbook, as ``03``, ``03-funnel-channels`` or ``all``;
        the copy they replace is moved to ``.reset/`` with the time it was replaced.
    """
    folder = Path(folder).resolve()
    config = read_config(folder)
    bench = workbench_dir(folder, out_root, student=student)
    bench.mkdir(parents=True, exist_ok=True)
    notebooks = chapters()
    for notebook in chapters_named(reset, notebooks):
        _set_aside(bench / notebook.name, bench / RESET_DIR)
    parameters = {"clinic_dir": str(folder), "lang": config.lang}
    for notebook in notebooks:
        target = bench / notebook.name
        if not target.exists():
            nbformat.write(workbench_notebook(notebook, parameters, student=student), target)
    return bench


def workbench_notebook(notebook: Path, parameters: dict, *, student: bool = False) -> nbformat.NotebookNode:
    """One chapter with its parameters cell holding ``parameters`` (and no solutions for a student)."""
    nb = nbformat.read(notebook, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        cell = nbformat.v4.new_code_cell()
        nb.cells.insert(0, cell)
    language = nb.metadata.get("kernelspec", {}).get("language", "python")
    cell.source = translate_parameters(KERNEL_NAME, language, parameters,
                                       "Parameters: this clinic's, set by `playbook lab`")
    # papermill's two tags on the one cell: it is the defaults cell and the injected one.
    cell.metadata["tags"] = ["parameters", "injected-parameters"]
    if student:
        nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.metadata.get("tags", [])]
    return nb


def chapters_named(names: Iterable[str], notebooks: Sequence[Path]) -> list[Path]:
    """The chapters ``names`` mean: ``all``, a number (``3``, ``03``) or a name with or without ``.ipynb``."""
    chosen: list[Path] = []
    for name in names:
        key = str(name).strip().removesuffix(".ipynb")
        if key.lower() == "all":
            return list(notebooks)
        found = [n for n in notebooks if n.stem == key or (key.isdigit() and n.stem.split("-")[0] == f"{int(key):02d}")]
        if not found:
            raise PlaybookError(f"--reset {name}: there is no such chapter",
                                fix=f"name a chapter by its number or name: {', '.join(n.stem for n in notebooks)}, "
                                    "or all")
        chosen += [n for n in found if n not in chosen]
    return chosen


def _set_aside(path: Path, keep: Path) -> None:
    if path.exists():
        keep.mkdir(exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target, n = keep / f"{path.stem}-{stamp}{path.suffix}", 1
        while target.exists():  # two resets within a second: keep both copies
            target, n = keep / f"{path.stem}-{stamp}-{n}{path.suffix}", n + 1
        shutil.move(str(path), str(target))


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(bench: Path, *, port: int | None = None, ip: str | None = None, browser: bool = True,
                allow_root: bool = False, extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line that serves ``bench``; ``extra`` options come last and win."""
    command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={bench}", *QUIET]
    if port is not None:
        command.append(f"--port={port}")
    if ip:
        command.append(f"--ip={ip}")
    if not browser:
        command.append("--no-browser")
    if allow_root:
        command.append("--allow-root")
    return command + list(extra)
