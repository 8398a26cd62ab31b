"""Real exports (issue 13): every untidy or broken variant of the sample clinic (tests/untidy.py) is read
right or stops with exit 2 naming the file, the fix and, where they exist, the column and the rows.
Never a traceback, never a changed input, never a patient's name or phone number in any message.

Most variants need only the load and the headline KPIs (a library call); two run the whole pipeline
(marked slow) to check the report's first page, kpis.json and every output file.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

import untidy
from playbook import cli, load_clinic, privacy, runner
from playbook.audit import audit
from playbook.errors import PlaybookError
from playbook.kpis import clinic_kpis

CLASSES = {"rows", "layout", "values", "duplicates", "coverage", "health", "personal", "referral", "files"}


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="session")
def source(tmp_path_factory):
    return untidy.write_source(tmp_path_factory.mktemp("untidy") / "source")


@pytest.fixture(scope="session")
def base(source):
    return untidy.write_base(source.parent / "base", source)


def _contents(clinic) -> dict:
    """What else must come out the same: each table's rows, and the costs (units, for one)."""
    return {**{name: len(clinic.table(name)) for name in ("patients", "visits", "charges", "costs")},
            "costs_amount": round(float(clinic.table("costs")["amount"].sum()), 2)}


@pytest.fixture(scope="session")
def clean(base):
    """The clean sample's headline KPIs, per channel too, and its tables' sizes."""
    clinic = load_clinic(base)
    kpis = clinic_kpis(clinic)
    return kpis.values, kpis.to_dict()["channels"], _contents(clinic)


@pytest.fixture(scope="session")
def secrets(source):
    """The input's names, phone numbers and addresses, as one pattern (one search per text)."""
    patients = pd.read_excel(source / untidy.PATIENTS, header=untidy.P_HEADER_ROW - 1, dtype=str, engine="calamine")
    values = set(patients[["姓名", "手机号", "家庭住址"]].stack().dropna())
    assert len(values) > 3_000
    return re.compile("|".join(map(re.escape, sorted(values, key=len, reverse=True))))


# Any mobile-looking number, the input's or not (a decimal's digits, 0.13999999966, are not one).
MOBILE = re.compile(r"(?<![\d.])" + privacy.MOBILE.pattern.removeprefix(r"(?<!\d)"))


def _no_personal_data(text: str, secrets: re.Pattern, where: str) -> None:
    leaked = secrets.search(text) or MOBILE.search(text)
    assert not leaked, f"{where} shows {leaked.group(0)[:3]}… (a name, phone or address of the input)"


def test_the_script_builds_forty_variants_or_more_covering_every_class():
    assert len(untidy.VARIANTS) >= 40
    assert {v.quirk for v in untidy.VARIANTS} == CLASSES
    assert {v.outcome for v in untidy.VARIANTS} == {"same", "stop", "flagged", "warned"}
    assert len({v.name for v in untidy.VARIANTS}) == len(untidy.VARIANTS)


@pytest.mark.parametrize("variant", untidy.VARIANTS, ids=lambda v: v.name)
def test_untidy_export(variant, base, clean, secrets, tmp_path):
    folder = tmp_path / variant.name
    shutil.copytree(base, folder)
    variant.build(folder)
    before = _hashes(folder)

    result = audit(folder)  # loads the clinic once; load_clinic below gets it from the cache
    report = result.as_text()
    cli_audit = CliRunner().invoke(cli.main, ["audit", str(folder)])
    assert cli_audit.exception is None or isinstance(cli_audit.exception, SystemExit), cli_audit.exception  # no traceback
    texts = {"audit": report, "cli": cli_audit.output}
    if variant.outcome == "stop":
        with pytest.raises(PlaybookError) as stopped:
            load_clinic(folder)
        error = stopped.value
        texts["error"] = str(error)
        assert error.exit_code == 2 and not result.usable and cli_audit.exit_code == 2  # the audit and the run agree
        assert error.path is not None and (error.path.name in {p.name for p in folder.iterdir()}), error
        assert error.path.name in report  # the audit names the file, not only the table
        for field in variant.expect:
            assert getattr(error, field), f"the error does not name its {field}: {error}"
    else:
        clinic = load_clinic(folder)
        kpis = clinic_kpis(clinic)
        texts["kpis"] = json.dumps([kpis.to_dict(), clinic.health.to_list()], ensure_ascii=False)
        assert result.usable and cli_audit.exit_code == 0, report
        values, channels, contents = clean
        if variant.outcome == "same":
            assert kpis.values["revenue"] == pytest.approx(values["revenue"], abs=0.01)
            assert {k: v for k, v in kpis.values.items() if k != "revenue"} == \
                   {k: v for k, v in values.items() if k != "revenue"}
            assert kpis.to_dict()["channels"] == channels
            assert _contents(clinic) == pytest.approx(contents, abs=0.01)
        elif variant.outcome == "flagged":
            sentence = clinic.health.sentence("zh")
            assert clinic.health.notable and "%" in sentence and "数据提示" in sentence
        elif variant.outcome == "warned":
            warnings = result.problems.query("severity == 'warning'")
            assert warnings["fix"].fillna("").str.contains("clinic.yaml").any()
    assert _hashes(folder) == before  # inputs are only ever read
    for where, text in texts.items():
        _no_personal_data(text, secrets, f"{variant.name}: {where}")


# --- what a variant's audit must say -------------------------------------------------------------------

def _audit_of(name, base, tmp_path):  # noqa: D103 (a variant's folder and its audit)
    folder = tmp_path / name
    shutil.copytree(base, folder)
    next(v for v in untidy.VARIANTS if v.name == name).build(folder)
    return folder, audit(folder)


def test_non_data_rows_are_counted_and_listed(base, tmp_path):
    _, result = _audit_of("subtotal_after_each_receipt", base, tmp_path)
    dropped = result.problems.query("table == 'charges' and severity == 'info'")
    line = dropped[dropped["message"].str.contains("totals and subtotal")].iloc[0]
    receipts = result.clinic.charges["charge_id"].nunique()
    assert line["file"] == "charges.csv" and f"{receipts + 1} row(s)" in line["message"]  # one per receipt, and the 合计
    assert not result.clinic.health.entries  # read right: not a doubt


def test_sheets_stacked_and_the_ones_not_read_are_named(base, tmp_path):
    _, result = _audit_of("sheets_per_year_and_a_summary", base, tmp_path)
    messages = " ".join(result.problems["message"])
    assert "files or sheets stacked" in messages and "2022年" in messages and "2025年" in messages
    assert "sheet '汇总' not read" in messages


def test_status_words_and_what_they_were_read_as(base, tmp_path):
    _, result = _audit_of("status_words_of_other_systems", base, tmp_path)
    words = result.words.set_index("word")["read_as"]
    assert words[["已到店", "已结账", "已离店", "失约", "未到店", "改约"]].tolist() == \
        ["arrived", "arrived", "arrived", "no_show", "no_show", "cancelled"]


def test_duplicates_are_dropped_counted_and_said_on_the_first_page(base, tmp_path):
    _, result = _audit_of("receipts_exported_twice", base, tmp_path)
    entry = next(e for e in result.clinic.health.entries if e.what == "duplicate")
    assert entry.table == "charges" and entry.files == "charges.csv" and 0.03 < entry.share < 0.04
    assert f"{entry.rows:,}" in result.clinic.health.sentence("zh")


def test_implausible_dates_are_left_out_and_counted(base, tmp_path):
    _, result = _audit_of("visits_dated_1900", base, tmp_path)
    entry = next(e for e in result.clinic.health.entries if e.what == "implausible_date")
    assert (entry.table, entry.rows, entry.column) == ("visits", 20, "预约时间")
    assert result.clinic.health.sentence("zh") == ""  # 20 of some 8,600 rows cannot move a KPI by 1%


def test_a_period_past_the_data_is_trimmed_and_said(base, tmp_path):
    _, result = _audit_of("period_past_the_data", base, tmp_path)
    assert result.period == {"start": "2024-01-01", "end": "2025-12-31",
                             "configured": {"start": "2024-01-01", "end": "2026-06-30"}}
    assert "2026-06-30" in result.clinic.health.sentence("zh") and "181 天" in result.clinic.health.sentence("zh")


def test_ids_like_phone_numbers_are_masked_alike_and_said(base, tmp_path):
    _, result = _audit_of("patient_ids_are_mobile_numbers", base, tmp_path)
    clinic = result.clinic
    assert clinic.patients["patient_id"].str.fullmatch(r"1\d\d\*{4}\d{4}(-\d+)?").all()
    assert clinic.visits["patient_id"].isin(clinic.patients["patient_id"]).all()
    assert result.problems["message"].str.contains("look like mobile phone numbers").any()


def test_a_referral_like_channel_shows_the_line_that_fixes_it(base, tmp_path):
    folder, result = _audit_of("referral_channel_under_another_name", base, tmp_path)
    fix = result.problems.query("severity == 'warning'")["fix"].dropna().iloc[0]
    assert fix.endswith("referral_channels: [老客介绍]")
    untidy.set_config(folder, "lang: zh\n", "lang: zh\nreferral_channels: [老客介绍]\n")
    assert audit(folder).problems.query("severity == 'warning'").empty


def test_files_no_table_claims_are_listed(base, tmp_path):
    _, result = _audit_of("an_unrelated_file_in_the_folder", base, tmp_path)
    assert (result.problems["file"] == "回访记录.xlsx").any()


# --- the whole pipeline (slow): one run shared by two quirks ------------------------------------------

@pytest.fixture(scope="module")
def pipeline(source, tmp_path_factory):
    """Patient ids that are mobile numbers and a period past the data, with every optional export too,
    through `playbook run` and `playbook weekly` (one run: each takes half a minute)."""
    root = tmp_path_factory.mktemp("pipeline")
    folder = untidy.write_base(root / "clinic", source, files=[p.name for p in source.iterdir() if p.name != "clinic.yaml"])
    for name in untidy.SLOW:
        next(v for v in untidy.VARIANTS if v.name == name).build(folder)
    before = _hashes(folder)
    run = runner.run_clinic(folder, root / "out")
    assert run.ok, run.error
    weekly = CliRunner().invoke(cli.main, ["weekly", str(folder), "--out", str(root / "out")])
    return folder, before, run, weekly


@pytest.mark.slow
def test_pipeline_outputs_hold_no_personal_data_and_inputs_are_unchanged(pipeline, secrets):
    import pypdf

    folder, before, run, weekly = pipeline
    assert _hashes(folder) == before
    files = [p for p in run.out_dir.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".html", ".json", ".xlsx")]
    assert any(p.suffix == ".xlsx" for p in files), weekly.output  # the weekly workbook and task board
    for path in files:
        if path.suffix == ".xlsx":
            text = "\n".join(str(v) for sheet in pd.read_excel(path, sheet_name=None, header=None, engine="calamine").values()
                             for v in sheet.stack())
        else:
            text = path.read_text(encoding="utf-8")
        _no_personal_data(text, secrets, path.name)
    pdf = "\n".join(page.extract_text() for page in pypdf.PdfReader(run.pdf).pages)
    _no_personal_data(pdf, secrets, "report.pdf")
    _no_personal_data(weekly.output, secrets, "playbook weekly")


@pytest.mark.slow
def test_pipeline_first_page_and_kpis_json_carry_the_data_health(pipeline):
    import pypdf

    _, _, run, _ = pipeline
    payload = json.loads(run.kpis.read_text(encoding="utf-8"))
    entry = next(e for e in payload["data_health"] if e["what"] == "period_trimmed")
    assert entry["file"] == "clinic.yaml" and entry["days"] == 181 and 0.19 < entry["share"] < 0.2
    assert payload["period"] == {"start": "2024-01-01", "end": "2025-12-31",
                                 "configured": {"start": "2024-01-01", "end": "2026-06-30"}}
    pages = [page.extract_text() for page in pypdf.PdfReader(run.pdf).pages]
    summary = next(p for p in pages if "执行摘要" in p and "数据提示" in p)  # the owner's first page says it
    assert "181" in summary and "19.8%" in summary and "-100" not in "".join(pages)
    cover = pages[0].replace(" ", "")
    assert "2026年6月30日" not in cover and "2025年12月31日" in cover  # the cover shows the period covered
