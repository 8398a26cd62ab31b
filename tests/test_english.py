"""The English report as an English-speaking owner reads it: both samples run with ``lang: en``.

What a reader would notice on any page: a programmatic plural ("12 finding(s)"), a bracket opened and
never closed (a sentence cut short), a word left in Chinese that is not a name as the data writes it
(a channel, a department), a count written without its thousands separator beside one written with it.
"""
from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from playbook import nondata
from playbook.clinic import load_clinic
from playbook.config import SAMPLES_DIR

pytestmark = pytest.mark.slow

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
# A whole number of four digits or more, not part of a date, an id, a decimal or a masked phone number.
BARE_NUMBER = re.compile(r"(?<![\d.,:/\-*A-Za-z#])\d{4,}(?![\d\-/])")
# Where a name as the data writes it can stand: who, which campaign, which sheet, which header.
NAME_COLUMNS = {"patients": ("name",), "visits": ("doctor_id", "consultant_id"), "charges": ("doctor_id",),
                "treatment_plans": ("doctor_id",), "staff": ("staff_id", "staff_name"), "campaigns": ("name",)}


SAMPLES = ("general_clinic", "children_clinic")


@pytest.fixture(params=SAMPLES)
def english(request, english_runs):
    return english_runs[request.param]


def _blocks(html) -> list[tuple[str, str]]:
    """(kind, text) of every paragraph, list item, heading, table cell and chart title of the report."""
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main")
    blocks = [(e.name, e.get_text(" ", strip=True)) for e in main.find_all(["p", "li", "h1", "h2", "h3", "td", "th"])]
    return blocks + [("alt", img.get("alt", "")) for img in main.find_all("img")]


def _names_in_data(folder) -> set[str]:
    clinic = load_clinic(folder)
    names = {clinic.config.name, clinic.config.consultant or ""}
    for table, columns in NAME_COLUMNS.items():
        if clinic.has(table):
            frame = clinic.table(table)
            names |= {str(v) for c in columns if c in frame for v in frame[c].dropna().unique()}
    for load in clinic.loads.values():
        names |= set(load.personal_data) | {load.sheet or ""} | {path.name for path in load.paths}  # files as named
        # the audit quotes the export's own headers and status words (到诊状态: 已到诊 → arrived)
        names |= set(load.mapping) | set(load.unrecognised)
        names |= {word for words in load.words.values() for word in words}
    # and the words of rows that are not data, as exports write them (合计, 制表人 …)
    names |= {en for en, _ in nondata.REASONS.values()}
    return names


def test_no_programmatic_plural_and_every_bracket_closed(english):
    _, html = english
    for kind, text in _blocks(html):
        assert "(s)" not in text and "(es)" not in text, text
        for opening, closing in ("()", "[]", "（）"):
            assert text.count(opening) == text.count(closing), f"{kind}: {text}"


def test_chinese_only_in_names_as_the_data_writes_them(english):
    folder, html = english
    names = _names_in_data(folder)
    left = {run for _, text in _blocks(html) for run in CJK.findall(text)
            if not any(run in name for name in names)}
    assert not left, sorted(left)


def test_counts_in_sentences_have_thousands_separators(english):
    _, html = english
    bare = [(m.group(), text) for kind, text in _blocks(html) if kind in ("p", "li", "alt")
            for m in BARE_NUMBER.finditer(text) if not 1990 <= int(m.group()) <= 2100]  # years stay bare
    assert not bare, bare[:5]
