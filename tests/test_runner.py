"""`playbook run` end to end on the hand-worked clinic: what a consultant gets, and what never leaks."""
from __future__ import annotations

import ast
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pypdf
import pytest

from conftest import CHARGES, PATIENTS, VISITS, write_hand_clinic
from playbook import chapter, load_clinic, runner
from playbook.config import NOTEBOOKS_DIR

HEADLINE = ["revenue", "new_patients", "arrived_visits", "no_show_rate", "first_visit_conversion",
            "referral_share", "return_within_12m"]
PLAYBOOK = [sys.executable, "-m", "playbook.cli"]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One full run, shared by the tests that read its outputs."""
    root = tmp_path_factory.mktemp("run")
    clinic = write_hand_clinic(root)
    before = _hashes(clinic)
    result = runner.run_clinic(clinic, root / "out")
    return clinic, before, result


def test_run_writes_every_output(finished):
    _, _, result = finished
    assert result.ok, result.error
    names = sorted(p.name for p in result.out_dir.iterdir())
    assert names == sorted([*(p.name for p in runner.chapters()), "kpis.json", "report.html", "report.pdf"])
    assert result.pdf.read_bytes().startswith(b"%PDF")


def test_kpis_json_holds_the_contract_with_the_hand_worked_values(finished):
    _, _, result = finished
    data = json.loads(result.kpis.read_text(encoding="utf-8"))
    assert data["clinic_id"] == "hand_worked"
    assert data["period"] == {"start": "2024-01-01", "end": "2025-06-30"}
    assert list(data["kpis"])[:7] == HEADLINE
    assert data["kpis"]["revenue"] == 11900 and data["kpis"]["new_patients"] == 5
    assert data["kpis"]["first_visit_conversion"] == 0.6
    # later chapters add keys per channel; the contract's two keep their names and values
    assert {k: data["channels"]["美团"][k] for k in ("new_patients", "first_visit_conversion")} == {
        "new_patients": 2, "first_visit_conversion": 0.5}


def test_input_files_are_never_modified(finished):
    clinic, before, _ = finished
    assert _hashes(clinic) == before


def _output_texts(out_dir: Path) -> dict[str, str]:
    texts = {p.name: p.read_text(encoding="utf-8") for p in out_dir.iterdir() if p.suffix in (".ipynb", ".html", ".json")}
    texts["report.pdf"] = "\n".join(page.extract_text() for page in pypdf.PdfReader(out_dir / "report.pdf").pages)
    return texts


def test_no_name_or_phone_number_appears_unmasked_in_any_output(finished):
    _, _, result = finished
    rows = [line.split(",") for line in PATIENTS.splitlines()[2:]]
    secrets = [name for _, name, _, _ in rows] + [phone for _, _, phone, _ in rows]
    for file, text in _output_texts(result.out_dir).items():
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{file} shows {leaked}"


@pytest.fixture(scope="module")
def children(sample_run):
    """The bundled children's sample end to end: the report an owner of a real-looking clinic gets."""
    return sample_run("children_clinic")


def test_a_bundled_sample_runs_and_no_patient_name_or_phone_leaks(children):
    """Its patients export holds real-looking names and phones."""
    import pandas as pd

    from playbook.config import SAMPLES_DIR
    from playbook.schema import PATIENTS

    patients = pd.read_csv(SAMPLES_DIR / "children_clinic" / "patients.csv", encoding="gb18030", dtype=str)
    pii = [h for h in patients.columns if h in PATIENTS.column("name").headers + PATIENTS.column("phone").headers]
    assert len(pii) == 2
    secrets = set(patients[pii].stack().dropna())
    assert len(secrets) > 1000
    for file, text in _output_texts(children.out_dir).items():
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, f"{file} shows {leaked[:5]}"


def _headings(notebook: Path) -> list[str]:
    """The level-1 headings a chapter shows the owner (its Markdown outputs)."""
    nb = nbformat.read(notebook, as_version=4)
    return [line[2:].strip() for cell in nb.cells for out in cell.get("outputs", [])
            for line in str(out.get("data", {}).get("text/markdown", "")).splitlines() if line.startswith("# ")]


def test_sample_report_reads_summary_chapters_appendix_in_order(children):
    """Cover, executive summary, the chapters in method order, then the appendix (issue 7)."""
    pages = [page.extract_text() for page in pypdf.PdfReader(children.pdf).pages]
    text = "\n".join(pages[2:])  # after the cover and the contents
    assert "示例儿童齿科" in pages[0]
    order = ["11-executive-summary", *(f"{n:02d}-" for n in range(1, 11)), "00-intake-audit", "12-appendix"]
    by_name = {p.stem: p for p in children.notebooks}
    position = 0
    for prefix in order:  # each chapter's headings, found in this order through the PDF
        notebook = next(p for name, p in by_name.items() if name.startswith(prefix))
        headings = _headings(notebook)
        assert headings, f"{notebook.name} shows no heading"
        for heading in headings:
            assert heading in text[position:], f"{heading!r} of {notebook.name} is not in the PDF after the chapter before"
        position = text.index(headings[0], position)


def test_sample_report_embeds_its_font_and_shows_no_code_nan_or_phone(children):
    import pandas as pd

    from playbook.config import SAMPLES_DIR

    reader = pypdf.PdfReader(children.pdf)
    fonts = {font.get_object()["/BaseFont"] for page in reader.pages
             for font in page["/Resources"].get("/Font", {}).values()}
    assert fonts and all("NotoSansSC" in f for f in fonts)  # pdffonts: the CJK font, embedded as a subset
    for page in reader.pages:
        for font in page["/Resources"].get("/Font", {}).values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)
    text = "\n".join(page.extract_text() for page in reader.pages)
    for forbidden in ("import ", "chapter.", "In [", "Traceback", "NaN", "nan%", "inf", "None", "Error"):
        assert forbidden not in text, forbidden
    from playbook.schema import PATIENTS

    patients = pd.read_csv(SAMPLES_DIR / "children_clinic" / "patients.csv", encoding="gb18030", dtype=str)
    phone = next(h for h in patients.columns if h in PATIENTS.column("phone").headers)
    assert not [p for p in patients[phone].dropna() if p in text]
    assert children.pdf.stat().st_size < 5_000_000
    charts = sum(len(page.images) for page in reader.pages)
    assert charts >= 10 and children.pdf.read_bytes().count(b"/Alt") >= charts  # each chart is described


def test_sample_html_loads_nothing_from_outside_and_carries_its_font(children):
    html = children.html.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", html)
    assert "@font-face" in html and "data:font/woff;base64," in html


def test_report_has_no_code_prompt_or_nan(finished):
    _, _, result = finished
    pdf = _output_texts(result.out_dir)["report.pdf"]
    assert "手算门诊" in pdf and "核心指标" in pdf and "数据体检" in pdf
    for forbidden in ("import ", "chapter.", "In [", "Traceback", "NaN", "nan%", "inf"):
        assert forbidden not in pdf


def test_a_failing_chapter_keeps_what_ran_before_and_saves_itself(tmp_path, finished):
    clinic = write_hand_clinic(tmp_path)
    broken = nbformat.read(NOTEBOOKS_DIR / "01-headline-kpis.ipynb", as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell("raise ValueError('planted failure')"))
    broken_path = tmp_path / "01-broken.ipynb"
    nbformat.write(broken, broken_path)
    out = tmp_path / "out"
    (out / "hand_worked").mkdir(parents=True)
    (out / "hand_worked" / "report.pdf").write_bytes(b"%PDF earlier run")

    result = runner.run_clinic(clinic, out, notebooks=[NOTEBOOKS_DIR / "00-intake-audit.ipynb", broken_path])

    assert not result.ok and result.error.chapter == "01-broken"
    assert "planted failure" in str(result.error) and "01-broken.ipynb" in str(result.error)
    saved = nbformat.read(out / "hand_worked" / "01-broken.ipynb", as_version=4)
    assert any(o.get("output_type") == "error" for c in saved.cells for o in c.get("outputs", []))
    assert (out / "hand_worked" / "00-intake-audit.ipynb").exists()
    assert (out / "hand_worked" / "report.pdf").read_bytes() == b"%PDF earlier run"  # nothing earlier is lost
    kpis = json.loads((out / "hand_worked" / "kpis.json").read_text(encoding="utf-8"))
    # Only finished chapters count: the failed one's numbers are not trusted.
    assert kpis["complete"] is False and kpis["clinic_id"] == "hand_worked" and kpis["kpis"] == {}


def test_cli_run_on_bad_input_exits_2_with_every_problem_and_no_traceback(tmp_path):
    clinic = write_hand_clinic(tmp_path)
    (clinic / "visits.csv").write_text(VISITS + "V14,P1,下周二,已到诊\n", encoding="utf-8")
    (clinic / "charges.csv").write_text(CHARGES.replace("收费时间", "时间"), encoding="utf-8")
    done = subprocess.run([*PLAYBOOK, "run", str(clinic), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "visits.csv" in done.stderr and "'预约时间'" in done.stderr and "rows 15" in done.stderr
    assert "charges.csv" in done.stderr and "paid_at" in done.stderr
    assert not (tmp_path / "out" / "hand_worked").exists()  # nothing ran


def test_cli_audit_exit_status(tmp_path):
    clinic = write_hand_clinic(tmp_path)
    good = subprocess.run([*PLAYBOOK, "audit", str(clinic)], capture_output=True, text=True)
    assert good.returncode == 0 and "can start" in good.stdout
    (clinic / "visits.csv").unlink()
    bad = subprocess.run([*PLAYBOOK, "audit", str(clinic)], capture_output=True, text=True)
    assert bad.returncode == 2 and re.search(r"visits\s.*missing", bad.stdout)


def test_lab_prepares_the_same_notebooks_with_the_clinics_parameters(tmp_path):
    clinic = write_hand_clinic(tmp_path)
    done = subprocess.run([*PLAYBOOK, "lab", str(clinic), "--out", str(tmp_path / "out"), "--prepare-only"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    bench = tmp_path / "out" / "hand_worked" / "workbench"
    assert sorted(p.name for p in bench.glob("*.ipynb")) == [p.name for p in runner.chapters()]
    notebook = nbformat.read(bench / "01-headline-kpis.ipynb", as_version=4)
    injected = next(c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert str(clinic.resolve()) in injected.source


@pytest.mark.parametrize("notebook", runner.chapters(), ids=lambda p: p.stem)
def test_notebook_contract(notebook):
    """Every chapter takes exactly the parameters the runner passes, and defines no functions."""
    parameters = papermill.inspect_notebook(str(notebook))
    assert set(parameters) == {"clinic_dir", "lang"}
    source = nbformat.read(notebook, as_version=4)
    assert not any(re.search(r"^\s*(def|class) ", c.source, re.M) for c in source.cells if c.cell_type == "code")
    assert any("trainer" in c.metadata.get("tags", []) for c in source.cells)  # a trainer reads why


@pytest.mark.parametrize("notebook", runner.chapters(), ids=lambda p: p.stem)
def test_trainer_cells_carry_the_banner_and_take_their_lines_from_the_table(notebook, monkeypatch, tmp_path):
    """A trainer's note is marked as one in JupyterLab, and the lines it states come from clinic.yaml's table."""
    shown = []
    monkeypatch.setattr(chapter, "display", lambda output: shown.append(output.data))
    clinic = load_clinic(write_hand_clinic(tmp_path))
    for cell in nbformat.read(notebook, as_version=4).cells:
        if "trainer" not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            assert cell.source.startswith(chapter.TRAINER_BANNER)
            assert not re.search(r"\{\w+\}", cell.source)  # a threshold's name would never be filled in here
            continue
        assert cell.source.startswith("chapter.trainer(clinic")
        call = ast.parse(cell.source).body[0].value
        if len(call.args) > 1:  # the note: every {name} a threshold of the table
            chapter.trainer(clinic, call.args[1].value)
            assert shown[-1].startswith(chapter.TRAINER_BANNER) and "{" not in shown[-1]
            assert cell.metadata.get("jupyter", {}).get("source_hidden")  # JupyterLab shows the note, not the code


@pytest.mark.slow
@pytest.mark.parametrize("name", ["general_clinic", "children_clinic"])
def test_every_page_number_and_the_contents_agree_with_the_pages(sample_run, name):
    """Typst's fitting rules once left a report unsettled: "第 1 页" on pages 34–36 of 42, then 33, 34, 38.
    Each page's footer states its own number and the same total; each chapter is where the contents say."""
    import re

    from pypdf import PdfReader

    pages = [page.extract_text() for page in PdfReader(sample_run(name).pdf).pages[1:]]  # after the cover
    footers = [re.search(r"第\s*(\d+)\s*页\s*/\s*共\s*(\d+)\s*页", text) for text in pages]
    assert all(footers), [i for i, f in enumerate(footers) if not f]
    assert [int(f[1]) for f in footers] == list(range(1, len(pages) + 1))
    assert {int(f[2]) for f in footers} == {len(pages)}
    contents = re.findall(r"^(\S[^\n.]*?)\s*(?:\.\s*)+\W*(\d+)\s*$", pages[0], flags=re.M)
    assert len(contents) >= 10, pages[0][:500]
    for title, number in contents:
        assert title.strip() in pages[int(number) - 1], (title, number)


@pytest.mark.slow
def test_a_clinics_run_leaves_out_the_cells_for_students_and_trainers(sample_run):
    """Exercises, solutions and trainer lessons never reach the owner; a clinic's run does not spend time on
    them (`make course` runs them: `playbook run --course`, tests/test_course.py)."""
    from playbook.runner import TEACHING_TAGS

    run = sample_run("general_clinic")
    for path in run.notebooks:
        cells = nbformat.read(path, as_version=4).cells
        assert not [c for c in cells if TEACHING_TAGS & set(c.metadata.get("tags", ()))], path.name
        assert any(c.cell_type == "code" and c.outputs for c in cells), path.name
