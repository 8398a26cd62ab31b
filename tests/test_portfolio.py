"""The portfolio benchmark (playbook.portfolio, `playbook portfolio OUT`): known answers on hand-made
kpis.json files, the follow-up order on the two samples with a healthy twin and a second general clinic,
then the report, workbook and json a chain owner opens."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from openpyxl import load_workbook

from playbook import portfolio
from playbook.errors import PlaybookError

PLAYBOOK = [sys.executable, "-m", "playbook.cli"]
TWO_YEARS = {"start": "2024-01-01", "end": "2025-12-31"}


def _kpis(**values) -> dict:
    base = {"revenue": 2_400_000.0, "new_patients": 1200, "arrived_visits": 9600, "no_show_rate": 0.10,
            "first_visit_conversion": 0.85, "referral_share": 0.45, "return_within_12m": 0.9,
            "revenue_change_recent": 0.0}
    return {**base, **values}


def write_out(root: Path, clinics: dict[str, dict], *, kind="general", doctor_days=1200, complete=True) -> Path:
    for clinic_id, kpis in clinics.items():
        folder = root / clinic_id
        folder.mkdir(parents=True)
        payload = {"clinic_id": clinic_id, "clinic_name": f"{clinic_id}口腔", "period": TWO_YEARS, "kpis": kpis,
                   "channels": {}, "complete": complete,
                   "doctors": {"甲医生": {"working_days": doctor_days / 2}, "乙医生": {"working_days": doctor_days / 2}}}
        if kind is not None:
            payload["clinic_type"] = {"type": kind, "source": "data", "basis": "test"}
        (folder / "kpis.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return root


def test_totals_are_compared_per_doctor_day_and_clinics_by_their_type(tmp_path):
    out = write_out(tmp_path, {"大": _kpis(revenue=4_800_000.0)}, doctor_days=2400)
    write_out(out, {"小": _kpis(revenue=1_200_000.0)}, doctor_days=600)
    write_out(out, {"童": _kpis()}, kind="children")
    write_out(out, {"旧": _kpis()}, kind=None)  # a kpis.json written before types were recorded
    write_out(out, {"半途": _kpis()}, complete=False)
    clinics = portfolio.read_portfolio(out).clinics.set_index("clinic_id")
    # twice the doctors, twice the money: the same 2,000 yuan a doctor-day
    assert clinics.loc["大", "revenue"] == clinics.loc["小", "revenue"] == pytest.approx(2000.0)
    assert clinics.loc["大", "new_patients"] == pytest.approx(0.5)
    assert clinics.loc["童", "clinic_type"] == "children"
    assert clinics.loc["旧", ["clinic_type", "type_source"]].tolist() == ["general", "not recorded"]
    assert "半途" not in clinics.index
    assert portfolio.read_portfolio(out).groups() == {"general": ["大", "小", "旧"], "children": ["童"]}


@pytest.fixture()
def chain(tmp_path):
    """Three general clinics and a children's one. 东 falls 20% (past the 5% alert line) and converts 60%;
    西 falls 8%; 北 grows; the children's 童 grows 30% and has no peer of its type."""
    out = write_out(tmp_path, {"东": _kpis(revenue_change_recent=-0.20, first_visit_conversion=0.60),
                               "西": _kpis(revenue_change_recent=-0.08),
                               "北": _kpis(revenue_change_recent=0.10)})
    return write_out(out, {"童": _kpis(revenue_change_recent=0.30, referral_share=0.50)}, kind="children")


def test_each_clinic_is_set_against_the_other_clinics_of_its_type_and_the_methods_lines(chain):
    bench = portfolio.benchmark(portfolio.read_portfolio(chain))
    change = bench.table[bench.table["measure"] == "revenue_change_recent"].set_index("clinic_id")
    # the median of the others of its type: 东 against 西 and 北, (-0.08 + 0.10) / 2
    assert change.loc["东", "peer_median"] == pytest.approx(0.01) and change.loc["东", "peers"] == 2
    assert change.loc["东", "line_gap"] == pytest.approx(15.0)  # -20% against the -5% line: 15 points
    assert change.loc["东", "peer_gap"] == pytest.approx(21.0)
    assert change.loc["东", "shortfall"] == pytest.approx(21.0)  # the further of the two
    # 西 at -8% is past the -5% alert line whatever its peers do (median of 东 and 北: -5%)
    assert change.loc["西", "past_line"] and change.loc["西", "shortfall"] == pytest.approx(3.0)
    # the children's clinic has no peer: judged on the lines only, never against general clinics
    assert change.loc["童", "peers"] == 0 and pd.isna(change.loc["童", "peer_median"])
    assert change.loc["童", "shortfall"] == 0
    assert bench.table["position"].isna().all()  # no group of 8: no quartiles


def test_the_follow_up_order_and_its_reasons(chain):
    bench = portfolio.benchmark(portfolio.read_portfolio(chain))
    order = bench.follow_up()
    # 东: 21 (revenue) + 25 (conversion 60% against the peers' 85%) ; 西: 3 ; then 童 (no peers) before 北
    assert order["clinic_id"].tolist() == ["东", "西", "童", "北"]
    assert order["shortfall"].tolist() == [pytest.approx(46.0), pytest.approx(3.0), 0.0, 0.0]
    assert [r["measure"] for r in order.loc[0, "reasons"]] == ["first_visit_conversion", "revenue_change_recent"]
    label = portfolio.METRICS["revenue_change_recent"].zh  # the registry's name
    assert bench.reason(order.loc[1, "reasons"][0], "zh") == f"{label}-8.0%（低于-5.0%的警戒线）"
    assert "Follow up 东口腔 first: First-visit conversion 60.0% (under the 80.0% review line; 25.0 points short " \
           "of the median of its 2 peers, 85.0%)" in bench.finding("en")
    payload = bench.to_dict()
    assert [c["clinic_id"] for c in payload["follow_up_first"]] == ["东", "西", "童", "北"]
    first = payload["follow_up_first"][0]
    assert sorted(first["peers"]) == sorted(["西", "北"]) and first["reasons"][0]["chapter"] == "Funnel and channels"
    assert payload["groups"]["children"] == {"clinics": ["童"], "quartiles": False}


def test_quartiles_only_for_a_type_with_enough_clinics(tmp_path):
    values = [0.50, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90]
    out = write_out(tmp_path, {f"c{i}": _kpis(first_visit_conversion=v) for i, v in enumerate(values)})
    bench = portfolio.benchmark(portfolio.read_portfolio(out))
    rows = bench.table[bench.table["measure"] == "first_visit_conversion"].set_index("clinic_id")
    assert rows["position"].tolist() == ["bottom", "bottom", "middle", "middle", "middle", "middle", "top", "top"]
    assert "不划四分位" not in bench.groups_note("zh")


def test_every_link_names_a_chapter_the_clinic_report_has(sample_run):
    html = sample_run("general_clinic").html.read_text(encoding="utf-8")
    for m in portfolio.MEASURES:
        assert f">{m.chapter('zh')}</h1>" in html, m.name


def test_a_portfolio_needs_two_finished_clinics(tmp_path):
    out = write_out(tmp_path, {"独": _kpis()})
    with pytest.raises(PlaybookError, match="1 finished clinic found"):
        portfolio.build_portfolio(out)


# --- the two samples, a healthy twin and a second general clinic --------------------------------------


@pytest.fixture(scope="module")
def four(sample_run, tmp_path_factory):
    """The general and children's samples (the session's runs), and two more general clinics made by the
    generator: its healthy twin and another seed, each run end to end; their kpis.json in one OUT."""
    from playbook import runner
    from playbook.batch import OK, run_clinics
    from playbook.synth import write_sample

    root = tmp_path_factory.mktemp("four")
    out = root / "out"
    for name in ("general_clinic", "children_clinic"):
        (out / name).mkdir(parents=True)
        shutil.copy(sample_run(name).out_dir / "kpis.json", out / name / "kpis.json")
    for clinic_id, name, seed, healthy in (("healthy_twin", "健康对照口腔", 7, True), ("second_general", "城南口腔", 11, False)):
        folder = root / "clinics" / clinic_id
        write_sample("general", folder, seed=seed, problems=not healthy)
        config = folder / "clinic.yaml"
        text = config.read_text(encoding="utf-8").replace("clinic_id: general_clinic", f"clinic_id: {clinic_id}")
        config.write_text(text.replace("name: 示例综合口腔门诊", f"name: {name}"), encoding="utf-8")
    # the chapters kpis.json's portfolio measures come from: headline KPIs and type, drivers, doctors
    chapters = [n for n in runner.chapters() if n.stem.startswith(("01", "02", "05"))]
    results = run_clinics([root / "clinics"], root / "runs", jobs=2, notebooks=chapters, show_progress=False)
    assert all(r.status == OK for r in results), [r.detail for r in results]
    for clinic_id in ("healthy_twin", "second_general"):
        (out / clinic_id).mkdir()
        shutil.copy(root / "runs" / clinic_id / "kpis.json", out / clinic_id / "kpis.json")
    return out


@pytest.mark.slow
def test_the_falling_general_clinic_comes_first_and_the_healthy_twin_last(four):
    bench = portfolio.benchmark(portfolio.read_portfolio(four))
    order = bench.follow_up()
    assert order["clinic_id"].iloc[0] == "general_clinic" and order["clinic_id"].iloc[-1] == "healthy_twin"
    types = dict(zip(order["clinic_id"], order["clinic_type"]))
    assert types == {"general_clinic": "general", "second_general": "general", "healthy_twin": "general",
                     "children_clinic": "children"}
    first = {r["measure"] for r in order.iloc[0]["reasons"]}
    assert {"revenue_change_recent", "referral_share"} <= first  # -21.4% past the -5% line; 24.4% referral
    second = order.set_index("clinic_id").loc["second_general"]
    assert any(r["measure"] == "revenue_change_recent" and r["past_line"] for r in second["reasons"])  # -10.5%
    # the children's clinic is never set against the general clinics, nor held up as their model
    children = bench.table[bench.table["clinic_id"] == "children_clinic"]
    assert (children["peers"] == 0).all() and children["peer_median"].isna().all()
    for m in portfolio.MEASURES:
        assert "示例儿童齿科" not in bench.measure_advice(m.name, "zh").replace("示例儿童齿科先读", "")


@pytest.fixture(scope="module")
def built(four):
    done = subprocess.run([*PLAYBOOK, "portfolio", str(four)], capture_output=True, text=True)
    return four, done


@pytest.mark.slow
def test_the_chain_owner_gets_a_short_report_a_json_and_a_workbook_of_numbers(built):
    out, done = built
    assert done.returncode == 0, done.stderr
    assert f"pdf: {out / 'portfolio.pdf'}" in done.stdout and f"json: {out / 'portfolio.json'}" in done.stdout
    pages = pypdf.PdfReader(out / "portfolio.pdf").pages
    text = "\n".join(page.extract_text() for page in pages)
    flat = text.replace(" ", "").replace("\n", "")  # the PDF's text runs come apart at spaces and line ends
    assert "应最先跟进示例综合口腔门诊" in flat and "儿童（仅此一家，只看方法线）" in flat
    for forbidden in ("nan", "NaN", "None", "Traceback", "▼", "获客漏斗与渠道", "营收驱动\u201d"):
        assert forbidden not in text, forbidden
    payload = json.loads((out / "portfolio.json").read_text(encoding="utf-8"))
    assert payload["follow_up_first"][0]["clinic_id"] == "general_clinic"
    assert payload["follow_up_first"][-1]["clinic_id"] == "healthy_twin"
    book = load_workbook(out / "portfolio.xlsx")
    assert book.sheetnames == ["跟进顺序", *(m.zh for m in portfolio.MEASURES), "组合统计"]
    overview = book["跟进顺序"]
    header = [c.value for c in overview[2]]
    assert header[:4] == ["顺序", "诊所", "诊所编号", "类型"] and "clinic_id" not in header
    for sheet in book.worksheets:  # every figure is a number Excel can add up, formatted, never text
        for row in sheet.iter_rows(min_row=3):
            for cell in row:
                if isinstance(cell.value, str):
                    assert not any(unit in cell.value for unit in ("万元", "元", "%")) or sheet.title == "跟进顺序" \
                        and header[cell.column - 1] == "原因", (sheet.title, cell.coordinate, cell.value)
    stats = book["组合统计"]
    assert isinstance(stats["E3"].value, float) and stats["E3"].number_format != "General"
    rules = [r.formula[0] for cf in overview.conditional_formatting for r in cf.rules]
    assert any('"需跟进"' in r for r in rules)
