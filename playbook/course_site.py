"""The course site: the chapters as static HTML pages, an index, the trainer's guide and the answer key.

Made with what the report already uses (nbconvert's HTML exporter, pandoc), so pip installs everything
and no Node or server is needed: open ``index.html`` from the folder. ``make course`` builds it from the
chapters as run on the general sample (charts and tables included); without ``executed`` the pages are
the chapters as written. In the pages, trainer cells carry a label, course cells a blue rule, and each
solution is folded under its exercise (template ``templates/nbconvert/course_page``).
"""
from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
import pypandoc
from nbconvert import HTMLExporter
from traitlets.config import Config

from .config import DOCS_DIR, TEMPLATES_DIR
from .report import _embedded_font_css as embedded_font_css  # the report's: pages read on a device without a CJK font
from .runner import chapters

PAGE_TEMPLATE = "course_page"  # a folder under TEMPLATES_DIR / "nbconvert"
SITE_TEMPLATES = TEMPLATES_DIR / "course"
CSS = TEMPLATES_DIR / "nbconvert" / PAGE_TEMPLATE / "static" / "course.css"
GUIDE = DOCS_DIR / "trainer-guide.md"
FONT_CSS = "course-font.css"
_FIXED_WORDS = "目录培训者指南答案 Contents Trainer's guide Solution Answer key ←→·"  # the pages' fixed words
_NOTEBOOK_LINK = re.compile(r"\(\.?\.?/?notebooks/(\d\d-[\w-]+)\.ipynb\)")


@dataclass(frozen=True)
class Page:
    href: str
    title: str
    exercises: int = 0


def build_site(out_dir: Path | str, *, executed: Path | str | None = None, key_clinic: Path | str | None = None) -> Path:
    """Write the site into ``out_dir`` and return its ``index.html``.

    Parameters
    ----------
    out_dir : the site's folder (created; its pages are replaced).
    executed : a folder of executed chapters (``playbook run``'s ``OUT/<clinic_id>``); a chapter not
        there is shown as written.
    key_clinic : a clinic folder to compute the answer key on (``answer-key.html``); none without it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sources = [_source(notebook, executed) for notebook in chapters()]
    notebooks = [nbformat.read(path, as_version=4) for path in sources]
    pages = [Page(f"{path.stem}.html", _title(nb, path.stem), _exercise_count(nb)) for path, nb in zip(sources, notebooks)]
    guide = _NOTEBOOK_LINK.sub(r"(\1.html)", GUIDE.read_text(encoding="utf-8"))
    key = _answer_key_html(Path(key_clinic)) if key_clinic is not None else None
    index = _markdown_template("index.md.j2").render(chapters=pages, has_key=key is not None,
                                                    executed=executed is not None, clinic=_clinic_name(executed))
    # One font subset for the whole site, in a file every page links to.
    text = "".join(map(_text, notebooks)) + guide + index + (key or "") + "".join(p.title for p in pages) + _FIXED_WORDS
    (out / FONT_CSS).write_text(embedded_font_css(text), encoding="utf-8")
    exporter = _exporter()
    for number, (page, notebook) in enumerate(zip(pages, notebooks)):
        course = {"index": "index.html", "previous": pages[number - 1] if number else None,
                  "next": pages[number + 1] if number + 1 < len(pages) else None}
        html, _ = exporter.from_notebook_node(notebook, resources={
            "course": course, "metadata": {"name": page.title}, "font_css": FONT_CSS})
        (out / page.href).write_text(html, encoding="utf-8")
    _write_page(out / "index.html", "诊所经营方法课程 · Clinic playbook course", _html(index), key is not None)
    _write_page(out / "guide.html", "培训指南 · Trainer's guide", _html(guide), key is not None)
    if key is not None:
        _write_page(out / "answer-key.html", "答案 · Answer key", key, True)
    return out / "index.html"


def _source(notebook: Path, executed: Path | str | None) -> Path:
    run = Path(executed) / notebook.name if executed else None
    return run if run and run.exists() else notebook


def _title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if match:
                return match.group(1).strip()
    return fallback


def _text(notebook: nbformat.NotebookNode) -> str:
    """Every character a page can show, for its font subset."""
    parts = [cell.source for cell in notebook.cells]
    parts += [str(value) for cell in notebook.cells for output in cell.get("outputs", [])
              for mime, value in output.get("data", {}).items() if mime.startswith("text/")]
    parts += [output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])]
    return "".join(parts)


def _exercise_count(notebook: nbformat.NotebookNode) -> int:
    return sum("solution" in c.metadata.get("tags", []) for c in notebook.cells)


def _clinic_name(executed: Path | str | None) -> str:
    return Path(executed).name if executed else ""


def _exporter() -> HTMLExporter:
    config = Config()
    # the machinery: kpis.json's hand-over cells, and the run's injected parameters (the build machine's paths;
    # the chapter's own parameters cell stays). Everything else, code included, is for the student.
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", "injected-parameters"}
    return HTMLExporter(config=config, template_name=PAGE_TEMPLATE,
                        extra_template_basedirs=[str(TEMPLATES_DIR / "nbconvert")], embed_images=True)


def _markdown_template(name: str) -> jinja2.Template:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(SITE_TEMPLATES), autoescape=False,
                                     keep_trailing_newline=True)
    return environment.get_template(name)


def _html(markdown: str) -> str:
    return pypandoc.convert_text(markdown, "html5", format="gfm", extra_args=["--wrap=none"])


def _write_page(path: Path, title: str, body: str, has_key: bool) -> None:
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(SITE_TEMPLATES), autoescape=False)
    html = template.get_template("page.html.j2").render(title=title, body=body, css=CSS.read_text(encoding="utf-8"),
                                                        font_css=FONT_CSS, has_key=has_key)
    path.write_text(html, encoding="utf-8")


def _answer_key_html(clinic_dir: Path) -> str:
    from . import course  # the analysis stack: only when a key is asked for
    from .clinic import load_clinic

    clinic = load_clinic(clinic_dir)
    zh, en = course.answer_key(clinic, "zh"), course.answer_key(clinic, "en")
    table = zh.rename(columns={"练习": "练习 · Exercise", "答案": "答案 · Answer", "容差": "容差 · Tolerance"})
    table.insert(2, "Question", en["Question"])
    intro = (f"<h1>答案 · Answer key</h1><p>在 <code>{clinic_dir.name}</code> 上由 <code>playbook.course</code> 计算"
             "（与学生的 <code>check</code> 用同一算法）。The answers as <code>playbook.course</code> computes them on "
             f"<code>{clinic_dir.name}</code>, the same ones a student's <code>check</code> compares with.</p>")
    return intro + table.to_html(index=False, border=0, classes="course-key")


def main(argv: list[str] | None = None) -> None:
    """``python -m playbook.course_site SITE [--executed RUN_DIR] [--key CLINIC_DIR]`` (what ``make course`` runs)."""
    parser = argparse.ArgumentParser(prog="python -m playbook.course_site", description=main.__doc__)
    parser.add_argument("site", type=Path)
    parser.add_argument("--executed", type=Path, help="executed chapters, e.g. reports/general_clinic")
    parser.add_argument("--key", type=Path, help="a clinic folder to compute the answer key on")
    args = parser.parse_args(argv)
    print(build_site(args.site, executed=args.executed, key_clinic=args.key))


if __name__ == "__main__":
    main()
