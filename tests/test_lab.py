"""`playbook lab`: the workbench a trainer or a student opens, and JupyterLab serving it (also as root)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import nbformat
import pytest

from playbook import runner
from playbook.config import COURSE_TAGS, SAMPLES_DIR
from playbook.errors import PlaybookError
from playbook.workbench import prepare_workbench

PLAYBOOK = [sys.executable, "-m", "playbook.cli"]
GENERAL = SAMPLES_DIR / "general_clinic"


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _read(path):
    return nbformat.read(path, as_version=4)


def test_each_workbench_notebook_has_one_parameters_cell_pointing_at_the_clinic(tmp_path):
    bench = prepare_workbench(GENERAL, tmp_path)
    assert sorted(p.name for p in bench.glob("*.ipynb")) == [p.name for p in runner.chapters()]
    for path in bench.glob("*.ipynb"):
        cells = [c for c in _read(path).cells if {"parameters", "injected-parameters"} & set(_tags(c))]
        assert len(cells) == 1, path.name
        assert f'clinic_dir = "{GENERAL.resolve()}"' in cells[0].source and 'lang = "zh"' in cells[0].source
        assert "../data_samples" not in cells[0].source


def test_the_student_workbench_has_the_exercises_but_no_solution(tmp_path):
    trainer = prepare_workbench(GENERAL, tmp_path)
    student = prepare_workbench(GENERAL, tmp_path, student=True)
    assert student != trainer and student.name == "workbench-student"
    for path in student.glob("*.ipynb"):
        source = _read(runner.chapters()[0].parent / path.name)
        kept = _read(path)
        assert not any("solution" in _tags(c) for c in kept.cells), path.name
        assert sum("exercise" in _tags(c) for c in kept.cells) == sum("exercise" in _tags(c) for c in source.cells)
    funnel = _read(trainer / "03-funnel-channels.ipynb")
    assert sum("solution" in _tags(c) for c in funnel.cells) >= 2  # the trainer's copy keeps them


def test_work_is_never_overwritten_and_reset_keeps_the_old_copy(tmp_path):
    bench = prepare_workbench(GENERAL, tmp_path)
    chapter = bench / "03-funnel-channels.ipynb"
    work = _read(chapter)
    work.cells.append(nbformat.v4.new_markdown_cell("我的笔记"))
    nbformat.write(work, chapter)
    prepare_workbench(GENERAL, tmp_path)
    assert "我的笔记" in chapter.read_text(encoding="utf-8")  # a second lab keeps the student's work

    prepare_workbench(GENERAL, tmp_path, reset=["3"])
    assert "我的笔记" not in chapter.read_text(encoding="utf-8")
    kept = list((bench / ".reset").glob("03-funnel-channels-*.ipynb"))
    assert len(kept) == 1 and "我的笔记" in kept[0].read_text(encoding="utf-8")
    prepare_workbench(GENERAL, tmp_path, reset=["03-funnel-channels.ipynb"])  # the same second: both copies kept
    assert len(list((bench / ".reset").glob("03-funnel-channels-*.ipynb"))) == 2
    with pytest.raises(PlaybookError, match="no such chapter"):
        prepare_workbench(GENERAL, tmp_path, reset=["33"])


def test_cli_reset_of_an_unknown_chapter_exits_2_naming_the_chapters(tmp_path):
    done = subprocess.run([*PLAYBOOK, "lab", str(GENERAL), "--out", str(tmp_path), "--prepare-only", "--reset", "99"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "03-funnel-channels" in done.stderr and "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, deadline: float):
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.load(response)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.slow
def test_lab_starts_without_a_browser_on_a_port_and_serves_the_workbench(tmp_path):
    """As root too (CI and containers run as root): the server's REST API lists the chapters."""
    port, token = _free_port(), "playbook-test"
    env = {**os.environ, "JUPYTER_TOKEN": token, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    lab = subprocess.Popen([*PLAYBOOK, "lab", str(GENERAL), "--out", str(tmp_path / "out"), "--no-browser",
                            "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)
    try:
        listing = _get(f"http://127.0.0.1:{port}/api/contents?token={token}", time.monotonic() + 90)
        names = sorted(item["name"] for item in listing["content"] if item["type"] == "notebook")
        assert names == [p.name for p in runner.chapters()]
        notebook = _get(f"http://127.0.0.1:{port}/api/contents/03-funnel-channels.ipynb?token={token}",
                        time.monotonic() + 10)
        parameters = [c for c in notebook["content"]["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(parameters) == 1 and str(GENERAL.resolve()) in parameters[0]["source"]
        assert any(set(COURSE_TAGS) & set(c["metadata"].get("tags", [])) for c in notebook["content"]["cells"])
    finally:
        os.killpg(lab.pid, signal.SIGTERM)  # the group: playbook lab and the JupyterLab it started
        _, stderr = lab.communicate(timeout=30)
    if os.geteuid() == 0:
        assert "running as root" in stderr and "--allow-root" in stderr
