"""Many clinics at once (playbook.batch, `playbook run ... --jobs N`): the same files as one at a time,
failures kept to their clinic, unchanged clinics skipped, and the same jobs on a Dask cluster.

Runs are the expensive part (a kernel per clinic), so the clinics are small generated ones, the
parallel/serial/Dask comparisons run two chapters, and each run is shared by the tests that read it.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from conftest import write_hand_clinic
from playbook import batch, synth
from playbook.cli import main
from playbook.config import NOTEBOOKS_DIR
from playbook.errors import PlaybookError

PLAYBOOK = [sys.executable, "-m", "playbook.cli"]
# Two chapters: the audit and the headline KPIs (which fill kpis.json); enough to compare executors.
SUBSET = [NOTEBOOKS_DIR / "00-intake-audit.ipynb", NOTEBOOKS_DIR / "01-headline-kpis.ipynb"]


def _sample(parent: Path, clinic_id: str, seed: int) -> Path:
    folder = parent / clinic_id
    synth.write_sample("general", folder, seed=seed, scale=0.2)
    config = folder / "clinic.yaml"
    text = re.sub(r"(?m)^clinic_id: .*$", f"clinic_id: {clinic_id}", config.read_text(encoding="utf-8"))
    config.write_text(text, encoding="utf-8")
    return folder


def _break_a_date(folder: Path) -> None:
    """Put a non-date in the visits export's 4th line, keeping the file's own encoding."""
    path = folder / "visits.csv"
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "gb18030"
    lines = raw.decode(encoding).splitlines()
    lines[3] = re.sub(r"\d{4}[/-]\d{1,2}[/-]\d{1,2}( \d{1,2}:\d{2})?", "下周二", lines[3], count=1)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


@pytest.fixture(scope="module")
def clinics(tmp_path_factory):
    root = tmp_path_factory.mktemp("clinics")
    branch_a, branch_b = _sample(root, "branch_a", 1), _sample(root, "branch_b", 2)
    broken = root / "broken"
    shutil.copytree(branch_a, broken)
    (broken / "clinic.yaml").write_text(
        (broken / "clinic.yaml").read_text(encoding="utf-8").replace("clinic_id: branch_a", "clinic_id: broken"),
        encoding="utf-8")
    _break_a_date(broken)
    return {"root": root, "branch_a": branch_a, "branch_b": branch_b, "broken": broken}


@pytest.fixture(scope="module")
def serial(clinics, tmp_path_factory):
    """The two good clinics, one after the other, in this process."""
    out = tmp_path_factory.mktemp("serial")
    jobs, known = batch.plan([clinics["branch_a"], clinics["branch_b"]], out, notebooks=SUBSET)
    assert not known
    return out, batch.run_jobs(jobs, max_workers=1)


def _notebook_outputs(path: Path) -> list:
    """What a notebook shows, without the run's timestamps and durations."""
    notebook = nbformat.read(path, as_version=4)
    return [(cell.cell_type, cell.source, [{k: v for k, v in output.items() if k != "metadata"}
                                           for output in cell.get("outputs", [])]) for cell in notebook.cells]


def assert_same_files(one: Path, other: Path) -> None:
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in other.iterdir())
    for name in names:
        if name.endswith(".ipynb"):
            assert _notebook_outputs(one / name) == _notebook_outputs(other / name), name
        elif name == batch.STAMP_NAME:  # it records when the run finished; the hash must agree
            assert json.loads((one / name).read_text())["hash"] == json.loads((other / name).read_text())["hash"]
        else:
            assert (one / name).read_bytes() == (other / name).read_bytes(), name


def test_two_clinics_in_parallel_write_the_same_files_as_one_at_a_time(clinics, serial, tmp_path):
    serial_out, serial_results = serial
    jobs, _ = batch.plan([clinics["branch_a"], clinics["branch_b"]], tmp_path, notebooks=SUBSET)
    seen = []
    results = batch.run_jobs(jobs, max_workers=2, progress=lambda clinic, stage: seen.append((clinic, stage)))

    assert [r.status for r in serial_results] == [r.status for r in results] == [batch.OK, batch.OK]
    for clinic_id in ("branch_a", "branch_b"):
        assert_same_files(serial_out / clinic_id, tmp_path / clinic_id)
        # progress came back from the worker processes, stage by stage
        assert [s for c, s in seen if c == clinic_id] == ["check_input", *(n.stem for n in SUBSET), "report"]
    kpis = json.loads((tmp_path / "branch_a" / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["complete"] and kpis["kpis"]["new_patients"] > 0


def test_the_dask_executor_runs_two_clinics_on_a_local_cluster_with_the_same_files(clinics, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    serial_out, _ = serial
    jobs, _ = batch.plan([clinics["branch_a"], clinics["branch_b"]], tmp_path, notebooks=SUBSET)
    seen = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = batch.run_jobs(jobs, executor="dask", scheduler=cluster.scheduler_address,
                                 progress=lambda clinic, stage: seen.append((clinic, stage)))
    assert [r.status for r in results] == [batch.OK, batch.OK], [r.reason for r in results]
    for clinic_id in ("branch_a", "branch_b"):
        assert_same_files(serial_out / clinic_id, tmp_path / clinic_id)
    assert {c for c, _ in seen} == {"branch_a", "branch_b"}  # progress events came back from the workers


@pytest.fixture(scope="module")
def cli_run(clinics, tmp_path_factory):
    """`playbook run` with every chapter: a good clinic and a broken one side by side, twice."""
    out = tmp_path_factory.mktemp("cli")
    command = [*PLAYBOOK, "run", str(clinics["branch_a"]), str(clinics["broken"]), "--out", str(out), "--jobs", "2"]
    first = subprocess.run(command, capture_output=True, text=True)
    written = {p: p.stat().st_mtime_ns for p in (out / "branch_a").iterdir()}
    second = subprocess.run(command, capture_output=True, text=True)
    return out, first, second, written


def _summary_row(stdout: str, clinic: str) -> str:
    return next(line for line in stdout.splitlines() if line.startswith(clinic + " "))


def test_a_broken_clinic_fails_alone_with_its_message_in_the_summary(cli_run):
    out, first, _, _ = cli_run
    assert first.returncode == 2, first.stdout + first.stderr  # an input problem, and the exit says so
    assert "Traceback" not in first.stdout + first.stderr
    good = _summary_row(first.stdout, "branch_a")
    assert " ok " in good and str(out / "branch_a" / "report.pdf") in good
    assert (out / "branch_a" / "report.pdf").read_bytes().startswith(b"%PDF")
    bad_lines = first.stdout.splitlines()
    bad = bad_lines.index(_summary_row(first.stdout, "broken"))
    assert " failed " in bad_lines[bad]
    why = bad_lines[bad + 1]  # one line: file, column, row as Excel numbers it, and the fix
    assert why.startswith("  why: visits.csv, column '预约时间'") and "'下周二'" in why and "(rows 4)" in why
    assert "fix: write dates like" in why
    assert "1 ok, 0 skipped (unchanged), 1 failed" in first.stdout
    assert not (out / "broken").exists()  # nothing ran for it


def test_a_second_run_with_nothing_changed_does_no_work(cli_run):
    out, _, second, written = cli_run
    assert "skipped (unchanged)" in _summary_row(second.stdout, "branch_a")
    assert "0 ok, 1 skipped (unchanged), 1 failed" in second.stdout  # the broken one is tried again
    assert {p: p.stat().st_mtime_ns for p in (out / "branch_a").iterdir()} == written  # not one file rewritten


def _stamped(tmp_path: Path) -> tuple[Path, Path, batch.ClinicJob]:
    """The hand-worked clinic with a stamped 'good run', as run_job leaves it."""
    clinic, out = write_hand_clinic(tmp_path), tmp_path / "out"
    [job], _ = batch.plan([clinic], out)
    job.out_dir.mkdir(parents=True)
    for name in ("kpis.json", "report.pdf"):
        (job.out_dir / name).write_text("{}")
    batch._write_stamp(job.out_dir / batch.STAMP_NAME, job, 1.0, job.out_dir / "report.pdf")
    return clinic, out, job


def _planned(clinic: Path, out: Path, **kwargs) -> str:
    jobs, known = batch.plan([clinic], out, **kwargs)
    return "run" if jobs else known[0].status


def test_a_clinic_reruns_when_an_input_its_configuration_or_the_playbook_changes(tmp_path, monkeypatch):
    clinic, out, _ = _stamped(tmp_path)
    assert _planned(clinic, out) == batch.SKIPPED
    assert _planned(clinic, out, force=True) == "run"

    visits = clinic / "visits.csv"
    original = visits.read_bytes()
    visits.write_bytes(original.replace(b"V13", b"V99"))
    assert _planned(clinic, out) == "run"
    visits.write_bytes(original)  # same bytes again, a newer modification time: the content decides
    assert _planned(clinic, out) == batch.SKIPPED

    (clinic / "~$visits.xlsx").write_bytes(b"Excel's lock file")  # open in Excel: not an input
    assert _planned(clinic, out) == batch.SKIPPED
    (clinic / "leads.csv").write_text("线索编号\n", encoding="utf-8")  # a new export is an input
    assert _planned(clinic, out) == "run"
    (clinic / "leads.csv").unlink()

    config = clinic / "clinic.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: zh", "lang: en"), encoding="utf-8")
    assert _planned(clinic, out) == "run"
    config.write_text(config.read_text(encoding="utf-8").replace("lang: en", "lang: zh"), encoding="utf-8")
    assert _planned(clinic, out) == batch.SKIPPED

    monkeypatch.setattr(batch, "code_hash", lambda: "another version of the playbook")
    assert _planned(clinic, out) == "run"


def test_a_missing_report_or_a_failed_rerun_means_the_clinic_runs_again(tmp_path):
    clinic, out, job = _stamped(tmp_path)
    (job.out_dir / "report.pdf").unlink()
    assert _planned(clinic, out) == "run"
    (job.out_dir / "report.pdf").write_text("{}")
    # A rerun removes the stamp before it starts; a run that then fails leaves none behind.
    (clinic / "visits.csv").unlink()
    result = batch.run_job(job)
    assert result.failed and "visits" in result.reason and result.exit_code == 2
    assert not (job.out_dir / batch.STAMP_NAME).exists()


def test_clinics_are_found_in_a_folder_of_clinic_folders(clinics, tmp_path):
    found = batch.find_clinics([clinics["root"]])
    assert [p.name for p in found] == ["branch_a", "branch_b", "broken"]
    (tmp_path / "notes").mkdir()
    with pytest.raises(PlaybookError, match="neither a clinic folder"):
        batch.find_clinics([tmp_path])


def test_two_folders_with_one_clinic_id_are_refused(clinics, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(clinics["branch_b"], twin)
    (twin / "clinic.yaml").write_text(
        (twin / "clinic.yaml").read_text(encoding="utf-8").replace("clinic_id: branch_b", "clinic_id: branch_a"),
        encoding="utf-8")
    jobs, known = batch.plan([clinics["branch_a"], twin], tmp_path / "out")
    assert [j.clinic_id for j in jobs] == ["branch_a"]
    assert known[0].failed and "also the id of" in known[0].reason and str(clinics["branch_a"]) in known[0].reason


def test_the_summary_has_one_line_per_clinic_and_one_line_why(tmp_path):
    results = [batch.JobResult(tmp_path / "a", "chengdong", batch.OK, 12.34, report=Path("/out/chengdong/report.pdf")),
               batch.JobResult(tmp_path / "b", "chengxi", batch.SKIPPED, report=Path("/out/chengxi/report.pdf")),
               batch.JobResult(tmp_path / "城南", None, batch.FAILED, 0.5, exit_code=2,
                               reason="clinic.yaml: not found; fix: create one")]
    assert batch.format_summary(results).splitlines() == [
        "clinic     status                time  report",
        "chengdong  ok                   12.3s  /out/chengdong/report.pdf",
        "chengxi    skipped (unchanged)      —  /out/chengxi/report.pdf",
        "城南       failed                0.5s  —",
        "  why: clinic.yaml: not found; fix: create one",
        "3 clinics: 1 ok, 1 skipped (unchanged), 1 failed",
    ]
    assert batch.exit_status(results) == 2 and batch.exit_status(results[:2]) == 0


def test_the_dask_executor_needs_a_scheduler_address(clinics):
    done = CliRunner().invoke(main, ["run", str(clinics["branch_a"]), "--executor", "dask"])
    assert done.exit_code == 2 and "--scheduler" in done.output
