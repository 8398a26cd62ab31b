"""Many clinics in one go: parallel engagement runs, skipped when nothing changed, and a summary.

A consultant runs a chain's branches or a book of clients, a trainer a classroom of sample clinics.
`plan` turns clinic folders into `ClinicJob`s, `run_jobs` runs them and returns one `JobResult` per
clinic, and `format_summary` prints the table a consultant reads at the end.

* **Isolation.** Clinics run in worker processes (a local process pool, or the workers of a Dask
  cluster; a lone clinic runs in this process) through `run_job`, a plain top-level function that
  catches every failure and returns a small picklable `JobResult`: one clinic failing never stops
  the others. Each clinic has its own Jupyter kernel, as in a single run.
* **Skipping.** After a complete good run, ``OUT/<clinic_id>/.playbook-stamp.json`` records a content
  hash of the clinic's input files, its clinic.yaml, the playbook version and the playbook's code
  (package, notebooks, templates). A clinic whose hash has not changed is skipped unless forced.
* **Same files everywhere.** A job is the same call to `playbook.runner.run_clinic` whichever
  executor runs it, so a parallel or Dask run writes the same files as a serial one. Dask workers
  must see the clinic folders and OUT at the same paths (a shared file system), run the same
  playbook version, and are best started with one thread each (a clinic keeps a core busy).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import queue
import time
import traceback
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tqdm import tqdm

from . import __version__, i18n
from . import clinic as clinic_module
from .config import CONFIG_NAME, NOTEBOOKS_DIR, PROJ_ROOT, TEMPLATES_DIR, read_config
from .errors import PlaybookError

__all__ = ["ClinicJob", "ExecutorError", "JobResult", "ProgressBars", "code_hash", "content_hash", "exit_status",
           "find_clinics", "format_summary", "plan", "run_clinics", "run_job", "run_jobs"]

OK, SKIPPED, FAILED = "ok", "skipped (unchanged)", "failed"
STAMP_NAME = ".playbook-stamp.json"
EXECUTORS = ("local", "dask")
# What the hash reads of the playbook itself: a change to any of these re-runs every clinic.
CODE_DIRS = (PROJ_ROOT / "playbook", NOTEBOOKS_DIR, TEMPLATES_DIR)
# Never inputs: Excel's lock files (~$name.xlsx) and hidden files; playbook.io skips them too.
IGNORED_PREFIXES = ("~$", ".")
DATA_SUFFIXES = (".xlsx", ".xls", ".csv")
# A worker process that dies takes the whole local pool down; the clinics that had not started are
# sent to a fresh pool, this many times at most.
MAX_POOL_RESTARTS = 3
# Local workers are forked from a server process that has imported these once (never from this
# process, which holds threads), so a fresh process per clinic costs ~0.1 s instead of ~1.1 s.
WORKER_PRELOAD = ["playbook.batch", "playbook.runner"]

ProgressFn = Callable[[str, str], None]  # (clinic_id, stage) as each stage of a clinic starts


class ExecutorError(PlaybookError):
    """The executor could not be used (a Dask scheduler out of reach, an unknown executor)."""


@dataclass(frozen=True)
class ClinicJob:
    """One clinic to run: where it is, where its results go, and the hash its good run will stamp."""

    folder: Path
    out_root: Path
    clinic_id: str
    content_hash: str
    playbook_version: str
    notebooks: tuple[Path, ...] | None = None  # None: every chapter
    course: bool = False  # run the cells for students and trainers too (`playbook.runner.TEACHING_TAGS`)

    @property
    def out_dir(self) -> Path:
        return self.out_root / self.clinic_id


@dataclass(frozen=True)
class JobResult:
    """What one clinic's run came to: small and picklable, so any executor can send it back."""

    folder: Path
    clinic_id: str | None
    status: str  # OK, SKIPPED or FAILED
    seconds: float = 0.0
    report: Path | None = None  # report.pdf, or report.html when only the PDF failed
    reason: str | None = None  # why it failed, in one line
    detail: str | None = None  # the whole message, fix included
    exit_code: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.clinic_id or self.folder.name

    @property
    def failed(self) -> bool:
        return self.status == FAILED


# --- finding clinics and deciding what to run -------------------------------------------------------

def find_clinics(paths: Iterable[Path | str]) -> list[Path]:
    """Clinic folders among ``paths``: each path is a clinic folder or a folder of clinic folders.

    A folder is a clinic when it holds clinic.yaml, or exports without one (it then fails with the
    missing-clinic.yaml message instead of being passed over). Other sub-folders are ignored.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if _looks_like_clinic(path):
            found.append(path.resolve())
            continue
        inside = [p.resolve() for p in sorted(path.iterdir()) if p.is_dir() and _looks_like_clinic(p)]
        if not inside:
            raise PlaybookError("neither a clinic folder nor a folder of clinic folders", path=path,
                                fix="give clinic folders (each with clinic.yaml and the exports), or the folder "
                                    "that holds them; `playbook new DIR` makes one")
        found.extend(inside)
    return list(dict.fromkeys(found))


def _looks_like_clinic(folder: Path) -> bool:
    if (folder / CONFIG_NAME).is_file():
        return True
    return any(p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(IGNORED_PREFIXES)
               for p in folder.iterdir() if p.is_file())


def plan(folders: Sequence[Path | str], out_root: Path | str, *, force: bool = False,
         notebooks: Sequence[Path] | None = None, course: bool = False) -> tuple[list[ClinicJob], list[JobResult]]:
    """The clinics to run, and the results already known without running anything.

    Known at once: a clinic whose clinic.yaml cannot be read, a second folder claiming a clinic_id
    already taken (both would write to the same ``OUT/<clinic_id>/``), and clinics unchanged since
    their last good run (unless ``force``).
    """
    out_root = Path(out_root).resolve()
    jobs: list[ClinicJob] = []
    known: list[JobResult] = []
    owners: dict[str, Path] = {}
    version = playbook_version()
    for folder in folders:
        folder = Path(folder).resolve()
        try:
            config = read_config(folder)
        except PlaybookError as error:
            known.append(_failure(folder, None, error))
            continue
        if config.clinic_id in owners:
            known.append(JobResult(folder, config.clinic_id, FAILED, exit_code=2,
                                   reason=f"clinic_id {config.clinic_id!r} is also the id of {owners[config.clinic_id]}; "
                                          "give each clinic its own clinic_id in clinic.yaml"))
            continue
        owners[config.clinic_id] = folder
        job = ClinicJob(folder, out_root, config.clinic_id, content_hash(folder, notebooks, course=course), version,
                        tuple(Path(n).resolve() for n in notebooks) if notebooks else None, course=course)
        report = _unchanged_report(job)
        if report and not force:
            known.append(JobResult(folder, config.clinic_id, SKIPPED, report=report))
        else:
            jobs.append(job)
    return jobs, known


def _unchanged_report(job: ClinicJob) -> Path | None:
    """The report of the last good run, when nothing it depends on has changed since."""
    try:
        stamp = json.loads((job.out_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    report = job.out_dir / stamp.get("report", "report.pdf")
    if stamp.get("hash") == job.content_hash and report.is_file() and (job.out_dir / "kpis.json").is_file():
        return report
    return None


# --- the content hash -------------------------------------------------------------------------------

def playbook_version() -> str:
    return __version__


@cache
def code_hash() -> str:
    """A hash of the playbook's version and code: the package, the chapter notebooks, the templates."""
    digest = hashlib.sha256(f"playbook {playbook_version()}\n".encode())
    for root in CODE_DIRS:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(PROJ_ROOT)
            if path.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                _add_file(digest, relative.as_posix(), path)
    return digest.hexdigest()


def content_hash(folder: Path | str, notebooks: Sequence[Path] | None = None, *, course: bool = False) -> str:
    """Changes when any input file of the clinic (name or bytes), its clinic.yaml or the playbook changes,
    or the run adds or leaves out the course's cells.

    The input files are every file in the clinic folder (Excel lock files and hidden files aside)
    and any file clinic.yaml names elsewhere under ``files:``.
    """
    folder = Path(folder).resolve()
    digest = hashlib.sha256(code_hash().encode())
    if course:
        digest.update(b"course\0")
    for path in _input_files(folder):
        _add_file(digest, path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(path), path)
    for notebook in notebooks or ():
        _add_file(digest, f"notebook:{Path(notebook).name}", Path(notebook))
    return digest.hexdigest()


def _input_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(IGNORED_PREFIXES)]
    try:
        named = read_config(folder).files.values()
    except PlaybookError:
        named = ()
    files += [folder / name for name in named if (folder / name).is_file()]
    return sorted(set(files))


def _add_file(digest, name: str, path: Path) -> None:
    digest.update(f"{name}\0{path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


# --- one clinic, in a worker ------------------------------------------------------------------------

def run_job(job: ClinicJob, progress: ProgressFn | None = None) -> JobResult:
    """Run one clinic: what every executor sends to its workers. Never raises; returns a `JobResult`.

    The stamp of an earlier good run is removed first and written again only when this run is
    complete and good, so a run that fails half-way is never taken for a good one.
    """
    from .runner import run_clinic  # in the worker: planning and skipping clinics need no Jupyter stack (1.2 s)

    started = time.perf_counter()
    if job.playbook_version != playbook_version():
        return JobResult(job.folder, job.clinic_id, FAILED, exit_code=2,
                         reason=f"this worker runs playbook {playbook_version()}, the run was planned with "
                                f"{job.playbook_version}; install the same version on every worker")
    stamp = job.out_dir / STAMP_NAME
    stamp.unlink(missing_ok=True)
    on_stage = (lambda stage: progress(job.clinic_id, stage)) if progress else None
    try:
        run = run_clinic(job.folder, job.out_root, notebooks=list(job.notebooks) if job.notebooks else None,
                         on_stage=on_stage, course=job.course)
    except PlaybookError as error:
        return _failure(job.folder, job.clinic_id, error, seconds=time.perf_counter() - started)
    except Exception as error:  # a bug, not the clinic's data: keep the traceback for whoever fixes it
        return JobResult(job.folder, job.clinic_id, FAILED, time.perf_counter() - started, exit_code=1,
                         reason=f"unexpected {type(error).__name__}: {_first_line(str(error))}",
                         detail=traceback.format_exc())
    finally:
        # When this process runs several clinics (in-process): tables it read to list input problems go.
        clinic_module._CACHE.pop(job.folder, None)
    seconds = time.perf_counter() - started
    report = run.pdf or run.html
    if not run.ok:
        return _failure(job.folder, job.clinic_id, run.error, seconds=seconds, report=report, timings=run.timings)
    _write_stamp(stamp, job, seconds, report)
    return JobResult(job.folder, job.clinic_id, OK, seconds, report=report, timings=dict(run.timings))


def _write_stamp(stamp: Path, job: ClinicJob, seconds: float, report: Path) -> None:
    payload = {"hash": job.content_hash, "playbook_version": job.playbook_version, "report": report.name,
               "finished": dt.datetime.now().isoformat(timespec="seconds"), "seconds": round(seconds, 2)}
    partial = stamp.with_name(stamp.name + ".partial")
    partial.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    partial.replace(stamp)


def _failure(folder: Path, clinic_id: str | None, error: PlaybookError, *, seconds: float = 0.0,
             report: Path | None = None, timings: dict | None = None) -> JobResult:
    return JobResult(folder, clinic_id, FAILED, seconds, report=report, reason=one_line(error), detail=str(error),
                     exit_code=error.exit_code, timings=dict(timings or {}))


def one_line(error: PlaybookError) -> str:
    """The error as one summary line: what is wrong, and the fix (the first problem of several)."""
    problems = getattr(error, "problems", None)
    first = problems[0] if problems else error
    text = _first_line(str(first))
    if first.fix:
        text += f"; fix: {first.fix}"
    if problems and len(problems) > 1:
        text += f" (+{i18n.counted(len(problems) - 1, 'more problem')}: `playbook audit` lists them)"
    return text


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --- executors --------------------------------------------------------------------------------------

def run_jobs(jobs: Sequence[ClinicJob], *, executor: str = "local", max_workers: int = 1,
             scheduler: str | None = None, progress: ProgressFn | None = None,
             on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run ``jobs`` and return their results in the jobs' order.

    ``executor`` "local" runs ``max_workers`` clinics at once in worker processes (a single clinic
    runs in this process); "dask" sends them to the Dask scheduler at ``scheduler``. ``progress`` is
    told each clinic's stages as they start, ``on_result`` each result as it arrives.
    """
    if executor not in EXECUTORS:
        raise ExecutorError(f"unknown executor {executor!r}", fix=f"use one of {', '.join(EXECUTORS)}")
    progress = progress or (lambda clinic_id, stage: None)
    on_result = on_result or (lambda result: None)
    if not jobs:
        return []
    if executor == "dask":
        results = _run_on_dask(jobs, scheduler, progress, on_result)
    elif len(jobs) == 1:
        results = {jobs[0].clinic_id: run_job(jobs[0], progress)}
        on_result(results[jobs[0].clinic_id])
    else:
        results = _run_in_pool(jobs, max_workers, progress, on_result)
    return [results[job.clinic_id] for job in jobs]


# Each pool worker's end of the progress queue, set when the worker starts.
_worker_queue = None


def _init_pool_worker(progress_queue) -> None:
    global _worker_queue
    _worker_queue = progress_queue


def _report_to_queue(clinic_id: str, stage: str) -> None:
    _worker_queue.put((clinic_id, stage))


def _run_in_pool_worker(job: ClinicJob) -> JobResult:
    return run_job(job, _report_to_queue)


def _run_in_pool(jobs, max_workers, progress, on_result) -> dict[str, JobResult]:
    # A fresh worker process per clinic: nothing one clinic leaves in memory reaches the next, notably
    # Typst's process-wide cache (~85 MB a report, which typst-py cannot evict). One task per child:
    # more hangs the pool on Python 3.11-3.13 (CPython gh-115634).
    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if forkserver else "spawn")
    if forkserver:
        context.set_forkserver_preload(WORKER_PRELOAD)
    progress_queue = context.Queue()
    results: dict[str, JobResult] = {}
    started: set[str] = set()
    waiting = list(jobs)
    for attempt in range(MAX_POOL_RESTARTS + 1):
        with ProcessPoolExecutor(max_workers=max(1, min(max_workers, len(waiting))), mp_context=context,
                                 initializer=_init_pool_worker, initargs=(progress_queue,),
                                 max_tasks_per_child=1) as pool:
            pending: dict[Future, ClinicJob] = {pool.submit(_run_in_pool_worker, job): job for job in waiting}
            waiting = []
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(progress_queue, progress, started)
                for future in done:
                    job = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        if job.clinic_id not in started:
                            waiting.append(job)  # never began: try it in a fresh pool
                            continue
                        result = JobResult(job.folder, job.clinic_id, FAILED, exit_code=1,
                                           reason="its worker process died (out of memory?); run it alone with --jobs 1")
                    results[job.clinic_id] = result
                    on_result(result)
        _drain(progress_queue, progress, started)
        if not waiting:
            break
    for job in waiting:
        results[job.clinic_id] = JobResult(job.folder, job.clinic_id, FAILED, exit_code=1,
                                           reason="worker processes kept dying before it could start")
        on_result(results[job.clinic_id])
    return results


def _drain(progress_queue, progress: ProgressFn, started: set[str]) -> None:
    while True:
        try:
            clinic_id, stage = progress_queue.get_nowait()
        except queue.Empty:
            return
        started.add(clinic_id)
        progress(clinic_id, stage)


@dataclass(frozen=True)
class _DaskProgress:
    """Sent with each job to a Dask worker: stages go back as events on a topic of this run."""

    topic: str

    def __call__(self, clinic_id: str, stage: str) -> None:
        from distributed import get_worker

        get_worker().log_event(self.topic, [clinic_id, stage])


def _run_on_dask(jobs, scheduler, progress, on_result) -> dict[str, JobResult]:
    if not scheduler:
        raise ExecutorError("the dask executor needs a scheduler address",
                            fix="add --scheduler tcp://HOST:8786 (the address `dask scheduler` prints)")
    from distributed import Client

    try:
        client = Client(scheduler, timeout="15s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {_first_line(str(error))}",
                            fix="start one with `dask scheduler` and `dask worker ADDRESS` (each worker with "
                                "playbook installed and the clinic folders and OUT at the same paths), "
                                "or check the address") from None
    topic = f"playbook-progress-{uuid.uuid4().hex}"
    events: queue.SimpleQueue = queue.SimpleQueue()
    results: dict[str, JobResult] = {}
    try:
        client.subscribe_topic(topic, lambda event: events.put(tuple(event[1])))
        pending = {client.submit(run_job, job, _DaskProgress(topic), pure=False,
                                 key=f"playbook-run-{job.clinic_id}-{uuid.uuid4().hex[:8]}"): job for job in jobs}
        while pending:
            done = [future for future in pending if future.done()]
            if not done:
                time.sleep(0.2)
            _drain(events, progress, set())
            for future in done:
                job = pending.pop(future)
                try:
                    result = future.result()
                except Exception as error:  # the worker died or the task could not run there
                    result = JobResult(job.folder, job.clinic_id, FAILED, exit_code=1,
                                       reason=f"dask: {type(error).__name__}: {_first_line(str(error))}")
                results[job.clinic_id] = result
                on_result(result)
    finally:
        client.unsubscribe_topic(topic)
        client.close()
    return results


# --- the summary ------------------------------------------------------------------------------------

def format_summary(results: Sequence[JobResult]) -> str:
    """The table a consultant reads at the end: clinic, status, time, report; one line why for failures."""
    rows = [(r.label, r.status, f"{r.seconds:.1f}s" if r.status != SKIPPED else "—", str(r.report or "—"))
            for r in results]
    header = ("clinic", "status", "time", "report")
    widths = [max(_width(text) for text in column) for column in zip(header, *rows)]
    lines = [_row(header, widths)]
    for result, row in zip(results, rows):
        lines.append(_row(row, widths))
        if result.failed:
            lines.append(f"  why: {result.reason}")
    counts = {status: sum(r.status == status for r in results) for status in (OK, SKIPPED, FAILED)}
    lines.append(f"{i18n.counted(len(results), 'clinic')}: {counts[OK]} ok, {counts[SKIPPED]} skipped (unchanged), "
                 f"{counts[FAILED]} failed")
    return "\n".join(lines)


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths)]
    # time right-aligned, so the decimals line up
    padded[2] = " " * (widths[2] - _width(cells[2])) + cells[2]
    return "  ".join(padded).rstrip()


def _width(text: str) -> int:
    """Terminal columns: Chinese characters (a folder name) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def exit_status(results: Sequence[JobResult]) -> int:
    """0 when no clinic failed; otherwise the most serious failure's code (2 input, 1 a chapter)."""
    return max((r.exit_code for r in results if r.failed), default=0)


# --- progress ---------------------------------------------------------------------------------------

def stages(job: ClinicJob) -> list[str]:
    """The stages `run_clinic` announces for this job, in order."""
    from .runner import chapters

    return ["check_input", *(n.stem for n in (job.notebooks or chapters())), "report"]


class ProgressBars:
    """One tqdm bar per clinic: stages done, and the one running now. Off when stderr is no terminal.

    Use it as the ``progress`` of `run_jobs`, and ``finish`` as its ``on_result``.
    """

    def __init__(self, jobs: Sequence[ClinicJob], *, disable: bool | None = None):
        self._stages = {job.clinic_id: stages(job) for job in jobs}
        width = max((len(job.clinic_id) for job in jobs), default=0)
        self._bars = {job.clinic_id: tqdm(total=len(self._stages[job.clinic_id]), desc=job.clinic_id.ljust(width),
                                          position=index, unit="stage", disable=disable, leave=True,
                                          bar_format="{desc} {bar:20} {n_fmt}/{total_fmt} {elapsed}{postfix}")
                      for index, job in enumerate(jobs)}
        for bar in self._bars.values():
            bar.set_postfix_str("waiting")

    def __call__(self, clinic_id: str, stage: str) -> None:
        bar = self._bars.get(clinic_id)
        if bar is None:
            return
        names = self._stages[clinic_id]
        bar.n = names.index(stage) if stage in names else bar.n
        bar.set_postfix_str(stage)

    def finish(self, result: JobResult) -> None:
        bar = self._bars.get(result.clinic_id)
        if bar is None:
            return
        if result.status == OK:
            bar.n = bar.total
        bar.set_postfix_str(result.status)

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


def run_clinics(paths: Iterable[Path | str], out_root: Path | str, *, jobs: int = 1, force: bool = False,
                executor: str = "local", scheduler: str | None = None, notebooks: Sequence[Path] | None = None,
                show_progress: bool | None = None, course: bool = False) -> list[JobResult]:
    """`playbook run`: find the clinics, skip the unchanged, run the rest, return every result in order.

    ``paths`` are clinic folders or folders of clinic folders. ``show_progress`` None shows the bars
    only on a terminal.
    """
    folders = find_clinics(paths)
    work, known = plan(folders, out_root, force=force, notebooks=notebooks, course=course)
    bars = ProgressBars(work, disable=None if show_progress is None else not show_progress)
    try:
        done = run_jobs(work, executor=executor, max_workers=jobs, scheduler=scheduler, progress=bars,
                        on_result=bars.finish)
    finally:
        bars.close()
    order = {folder: index for index, folder in enumerate(folders)}
    return sorted([*known, *done], key=lambda result: order[result.folder])
