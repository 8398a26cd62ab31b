"""A consultant's threshold override reaches every sentence, chart line, table and trainer note (issue 12).

The general sample is run in Chinese and in English with two lines changed in clinic.yaml
(`OVERRIDES`): the whole report (every chapter's rendered HTML, chart alt text included) and every
output of the executed notebooks (the trainer's notes too) must state the new lines and never the old
ones as those lines. What may still show an old value is named, not searched around: a source quoted
in its own words (the appendix's source column, a trainer's “quotation”), and the appendix's mark of
the change ("原为80.0%" / "was 80.0%").
"""
from __future__ import annotations

import html
import re

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from playbook import load_clinic, thresholds  # noqa: E402
from playbook.diagnosis import diagnose  # noqa: E402

pytestmark = pytest.mark.slow

OVERRIDES = {"first_visit_conversion_review": 0.75, "referral_share_healthy": 0.35}
# What each line is called near a number that states it, in both languages.
WORDS = {"first_visit_conversion_review": ("复盘", "成交", "review", "conver"),
         "referral_share_healthy": ("转介绍", "健康", "口碑", "referral", "healthy")}
NEAR = 30  # characters either side of a number that belong to its clause


def _percent(value: float) -> re.Pattern:
    """80% or 80.0%, not 180% or 8.80%."""
    return re.compile(rf"(?<![\d.]){value * 100:g}(?:\.0)?\s?%")


def _report_text(out) -> str:
    page = (out / "report.html").read_text(encoding="utf-8")
    page = re.sub(r"<style.*?</style>|<script.*?</script>", "", page, flags=re.S)
    page = re.sub(r'<img[^>]*?alt="([^"]*)"[^>]*>', r" \1 ", page)  # a chart's alt text: its title and sentence
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _notebook_text(out) -> tuple[str, str]:
    """Every text output of the executed chapters: (the trainer's notes, everything else)."""
    trainer, owner = [], []
    for path in sorted(out.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                text = "\n".join(str(data[k]) for k in ("text/markdown", "text/html", "text/plain") if k in data)
                alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
                (trainer if "trainer" in cell.metadata.get("tags", []) else owner).append(f"{text}\n{alt}")
    return "\n".join(trainer), "\n".join(owner)


def _without_quotes(text: str, lang: str) -> str:
    """The text less what only quotes a source or marks the change (see the module docstring)."""
    for t in thresholds.DEFAULTS.values():
        text = text.replace(t.cited(lang), " ")
    text = re.sub(r"“[^”]*”|「[^」]*」|\"[^\"\n]{0,200}\"", " ", text)
    return re.sub(r"原为\d+(?:\.\d+)?%|was \d+(?:\.\d+)?%", " ", text)


def _stated(text: str, name: str, value: float) -> list[str]:
    """Each clause where ``value`` is stated as the line ``name``: the number with the line's words near it."""
    found = []
    for match in _percent(value).finditer(text):
        clause = text[max(0, match.start() - NEAR):match.end() + NEAR]
        if any(word in clause.lower() for word in WORDS[name]):
            found.append(clause.replace("\n", " "))
    return found


@pytest.fixture(scope="session")
def overridden_runs(tmp_path_factory):
    """The general sample with OVERRIDES, run in Chinese and in English: {lang: output folder}."""
    import shutil

    from playbook import runner
    from playbook.config import SAMPLES_DIR

    root = tmp_path_factory.mktemp("override")
    outs = {}
    for lang in ("zh", "en"):
        folder = root / f"override_{lang}"
        shutil.copytree(SAMPLES_DIR / "general_clinic", folder)
        config = (folder / "clinic.yaml").read_text(encoding="utf-8")
        config = re.sub(r"^clinic_id: .*$", f"clinic_id: override_{lang}", config, flags=re.M)
        config = re.sub(r"^lang: .*$", f"lang: {lang}", config, flags=re.M)
        lines = ", ".join(f"{k}: {v}" for k, v in OVERRIDES.items())
        (folder / "clinic.yaml").write_text(config + f"thresholds: {{{lines}}}\n", encoding="utf-8")
        run = runner.run_clinic(folder, root / "out", course=True)  # with the trainer's notes, as the course shows them
        assert run.ok, run.error
        outs[lang] = run.out_dir
    return outs


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_sentence_table_or_trainer_note_states_an_old_line(overridden_runs, lang):
    out = overridden_runs[lang]
    trainer, owner = _notebook_text(out)
    texts = {"report": _report_text(out), "notebooks": owner, "trainer notes": trainer}
    assert len(trainer) > 2000 and "培训讲解" in trainer  # the notes ran and carry the banner
    for where, text in texts.items():
        text = _without_quotes(text, lang)
        for name, value in OVERRIDES.items():
            old = thresholds.DEFAULTS[name].value
            assert _stated(text, name, old) == [], (where, name)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_new_lines_are_stated(overridden_runs, lang):
    out = overridden_runs[lang]
    report = _report_text(out)
    trainer, _ = _notebook_text(out)
    for name, value in OVERRIDES.items():
        assert _stated(report, name, value), name  # e.g. "低于75%的复盘线", "referral share below 35%"
        assert _stated(trainer, name, value), name
    assert {"zh": "低于75%的复盘线", "en": "under the 75% review line"}[lang] in report
    assert {"zh": "转介绍占比低于35%", "en": "referral share below 35%"}[lang] in report
    assert {"zh": "顾问调整（原为80.0%）", "en": "changed by the consultant (was 80.0%)"}[lang] in report


def test_the_chart_lines_are_drawn_at_the_new_lines(overridden_runs):
    """The reference lines of the charts sit at 75% and 35%, labelled so."""
    clinic = load_clinic(overridden_runs["zh"].parent.parent / "override_zh")
    diagnosis = diagnose(clinic)
    charts = [diagnosis.funnel.conversion, diagnosis.doctors.conversion, diagnosis.loyalty.referral]
    assert [c.line for c in charts[:2]] == [0.75, 0.75] and charts[2].healthy == 0.35
    for result in charts:
        for lang in ("zh", "en"):
            fig, ax = plt.subplots()
            result.plot(ax=ax, lang=lang)
            labels = " ".join([t.get_text() for t in ax.texts] + [ax.get_title()]
                              + [t.get_text() for t in (ax.get_legend().get_texts() if ax.get_legend() else [])])
            plt.close(fig)
            assert "80%" not in labels and "40%" not in labels, labels
            assert "75%" in labels or "35%" in labels, labels
