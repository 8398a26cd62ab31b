"""The course: every chapter 01-10 teaches with exercises whose solutions the checker accepts.

The expected answers are the library's, on the notebook's clinic; on the general sample they must be
what data_samples/README.md says was planted (the known answers below), and on its healthy twin the
planted problems must be gone.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from playbook import course, runner, synth
from playbook.clinic import clinic_from_tables, load_clinic
from playbook.config import SAMPLES_DIR

CHAPTERS = [p for p in runner.chapters() if "01" <= p.name[:2] <= "10"]
CHECK_CALL = re.compile(r'check\("(\d\d\.\d)", answer\)')


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _course_cells(notebook, tag):
    return [c for c in notebook.cells if tag in _tags(c)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_has_objectives_exercises_with_solutions_and_a_recap(path):
    notebook = nbformat.read(path, as_version=4)
    cells = notebook.cells
    objectives = _course_cells(notebook, "objectives")
    assert len(objectives) == 1 and cells.index(objectives[0]) <= 1  # at the top, under the chapter's title
    assert "学习目标" in objectives[0].source and "Learning objectives" in objectives[0].source
    asked = [m for c in _course_cells(notebook, "exercise") for m in CHECK_CALL.findall(c.source)]
    solved = [m for c in _course_cells(notebook, "solution") for m in CHECK_CALL.findall(c.source)]
    assert 2 <= len(asked) <= 4 and asked == solved, (asked, solved)
    assert all(exercise.startswith(path.name[:2] + ".") for exercise in asked)
    assert all("answer = " in c.source for c in _course_cells(notebook, "solution"))
    recap = _course_cells(notebook, "recap")
    assert len(recap) == 1 and cells.index(recap[0]) == len(cells) - 1


def test_every_exercise_of_the_checker_is_in_a_notebook_and_back():
    in_notebooks = {m for path in CHAPTERS for c in nbformat.read(path, as_version=4).cells
                    if "solution" in _tags(c) for m in CHECK_CALL.findall(c.source)}
    assert in_notebooks == set(course.EXERCISES)


def test_an_unanswered_exercise_says_so_without_computing_anything():
    check = course.checker(clinic=None, lang="en")  # no clinic at all: nothing may be computed
    verdict = check("03.1", None)
    assert verdict.status == course.UNANSWERED and "not answered" in verdict.message()


@pytest.mark.parametrize("answer, exercise, expected, right", [
    ("23%", "03.2", 0.2304, True), (23, "03.2", 0.2304, True), (0.23, "03.2", 0.2304, True),
    (0.24, "03.2", 0.2304, False), ("abc", "03.2", 0.2304, False), (float("nan"), "03.2", 0.2304, False),
    ("-79.6万", "02.1", -796281.74, True), ("¥-796,282", "02.1", -796281.74, True), (-700000, "02.1", -796281.74, False),
    (253, "04.3", 253, True), (252, "04.3", 253, False),
    ("Douyin", "03.1", "抖音", True), (" 抖音 ", "03.1", "抖音", True), ("美团", "03.1", "抖音", False),
    ("红色", "01.3", "red", True), ("Red", "01.3", "red", True), ("yellow", "01.3", "red", False),
    ("获客与市场", "03.3", "acquisition", True), ("获客", "03.3", "acquisition", True), ("none", "03.3", frozenset(), True),
    ("experience", "03.3", "acquisition", False),
    (["抖音"], "03.4", frozenset({"抖音"}), True), ("没有", "03.4", frozenset(), True), ("none", "03.4", frozenset({"抖音"}), False),
    ("不能", "09.3", "no", True), ("否", "09.3", "no", True), ("yes", "09.3", "no", False),
    ("到诊人数", "02.3", "arrivals", True), ("客单价", "02.3", "arrivals", False),
    ("耗材", "06.3", frozenset({"consumables"}), True), ({"耗材", "库存"}, "06.3", frozenset({"consumables"}), False),
])
def test_answers_are_read_as_students_write_them(answer, exercise, expected, right):
    assert course.judge(course.EXERCISES[exercise], answer, expected) is right


def _wrong(exercise: course.Exercise, expected):
    """An answer a student could give that is not the expected one."""
    if exercise.kind == course.RATE:
        return expected + 10 * exercise.tolerance + 0.05
    if exercise.kind == course.NUMBER:
        return expected * 1.5 + 10
    if expected in ("yes", "no"):
        return "no" if expected == "yes" else "yes"
    return "none" if expected else "抖音"


@pytest.fixture(scope="module")
def general():
    return load_clinic(SAMPLES_DIR / "general_clinic")


# What data_samples/README.md says was planted in the general sample, as the exercises ask for it.
PLANTED = {
    "01.2": "抖音", "01.3": "red", "02.2": "种植", "03.1": "抖音", "03.3": "acquisition", "03.4": frozenset({"抖音"}),
    "04.2": frozenset({"王医生"}), "05.1": "王医生", "05.3": "美团", "06.3": frozenset({"consumables"}),
    "09.3": "no",
}
PLANTED_NUMBERS = {"03.2": (0.19, 0.26), "04.1": (0.13, 0.19), "05.2": (0.60, 0.70), "06.1": (0.085, 0.095)}


def test_on_the_general_sample_the_answers_are_the_planted_problems(general):
    check = course.checker(general, "zh")
    for exercise, planted in PLANTED.items():
        assert check.expected(exercise) == planted, exercise
        assert check(exercise, planted).correct
    for exercise, (low, high) in PLANTED_NUMBERS.items():
        assert low <= check.expected(exercise) <= high, exercise


def test_every_exercise_rejects_a_wrong_answer_on_the_general_sample(general):
    check = course.checker(general, "en")
    for exercise in course.EXERCISES.values():
        expected = check.expected(exercise.id)
        assert expected is not None, f"{exercise.id} cannot be answered on the general sample"
        wrong = check(exercise.id, _wrong(exercise, expected))
        assert wrong.status == course.WRONG, exercise.id
        assert "✗" in wrong.message()


def test_on_the_healthy_twin_the_planted_problems_are_gone():
    twin = synth.generate("general", problems=False)
    check = course.checker(clinic_from_tables(twin.config, twin.tables), "zh")
    for exercise in ("03.3", "03.4", "04.2", "06.3", "07.1"):
        assert check.expected(exercise) == frozenset(), exercise  # the right answer is "none"
        assert check(exercise, "没有").correct
    assert check.expected("01.3") == "green"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One full run of the general sample with the course's cells (what `make course` shows)."""
    run = runner.run_clinic(SAMPLES_DIR / "general_clinic", tmp_path_factory.mktemp("course-run"), course=True)
    assert run.ok, run.error
    return run


def _verdicts(cell) -> list[dict]:
    return [o.data[course.VERDICT_MIMETYPE] for o in cell.get("outputs", [])
            if course.VERDICT_MIMETYPE in o.get("data", {})]


@pytest.mark.slow
def test_in_the_batch_run_every_solution_is_right_and_every_exercise_waits(sample_run, general):
    check = course.checker(general, "en")
    solved = set()
    for path in sample_run.notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            tags = set(_tags(cell))
            if cell.cell_type != "code" or not tags & {"exercise", "solution"}:
                continue
            assert not [o for o in cell.outputs if o.output_type in ("error", "stream")], (path.name, cell.source)
            for verdict in _verdicts(cell):
                if "solution" in tags:
                    assert verdict["status"] == "right", verdict
                    solved.add(verdict["exercise"])
                    answer = verdict["answer"] if not isinstance(verdict["answer"], list) else set(verdict["answer"])
                    exercise = course.EXERCISES[verdict["exercise"]]
                    assert check(exercise.id, answer).correct  # the solution's own answer, checked again here
                    assert not check(exercise.id, _wrong(exercise, check.expected(exercise.id))).correct
                else:
                    assert verdict["status"] == "unanswered", verdict
    assert solved == set(course.EXERCISES)


@pytest.mark.slow
def test_no_course_cell_reaches_the_owners_report(sample_run):
    import pypdf

    html = sample_run.html.read_text(encoding="utf-8")
    pdf = "\n".join(page.extract_text() for page in pypdf.PdfReader(sample_run.pdf).pages)
    for text in ("学习目标", "Learning objectives", "练习", "Exercise", "小结", "check(", "答案 · Solution"):
        assert text not in html and text not in pdf, text


def test_the_course_site_builds_from_the_chapters_as_written(tmp_path):
    """What `make course` runs, without the run: every chapter a page, linked from the index, solutions folded."""
    from playbook.course_site import build_site

    index = build_site(tmp_path / "site")
    site = index.parent
    pages = sorted(p.name for p in site.glob("[0-9][0-9]-*.html"))
    assert pages == [p.stem + ".html" for p in runner.chapters()]
    home = index.read_text(encoding="utf-8")
    assert all(f'href="{page}"' in home for page in pages) and 'href="guide.html"' in home
    funnel = (site / "03-funnel-channels.html").read_text(encoding="utf-8")
    assert funnel.count('<details class="course-solution">') == 4 and "celltag_trainer" in funnel
    assert 'href="02-revenue-drivers.html"' in funnel and 'href="04-cohorts-loyalty.html"' in funnel
    assert "Playbook Noto Sans SC" in (site / "course-font.css").read_text(encoding="utf-8")
    for page in site.glob("*.html"):  # opened from a folder, offline: nothing from the network
        assert not re.search(r'(src|href)="https?://', page.read_text(encoding="utf-8")), page.name
    guide = (site / "guide.html").read_text(encoding="utf-8")
    assert "培训" in guide and "Trainer" in guide


@pytest.mark.slow
def test_make_course_site_shows_the_run_and_the_answer_key(sample_run, tmp_path):
    from playbook.course_site import build_site

    index = build_site(tmp_path / "site", executed=sample_run.out_dir, key_clinic=SAMPLES_DIR / "general_clinic")
    funnel = (index.parent / "03-funnel-channels.html").read_text(encoding="utf-8")
    assert "data:image/png;base64" in funnel  # the run's charts
    assert str(SAMPLES_DIR) not in funnel  # the run's injected parameters (this machine's paths) are left out
    key = (index.parent / "answer-key.html").read_text(encoding="utf-8")
    assert all(exercise in key for exercise in course.EXERCISES) and "抖音" in key and "王医生" in key
