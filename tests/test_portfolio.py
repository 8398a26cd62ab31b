"""The portfolio benchmark (playbook.portfolio, `playbook portfolio OUT`): known answers on hand-made
kpis.json files, then the report and workbook a chain owner opens."""
from __future__ import annotations

import json
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
TWO_YEARS = {"start": "2024-01-01", "end": "2025-12-31"}  # 731 days: 24.02 months of 30.44 days


def _kpis(**values) -> dict:
    base = {"revenue": 2_400_000.0, "new_patients": 1200, "arrived_visits": 9600, "no_show_rate": 0.10,
            "first_visit_conversion": 0.7, "referral_share": 0.3, "return_within_12m": 0.8,
            "revenue_change_recent": 0.0}
    return {**base, **values}


def write_out(root: Path, clinics: dict[str, dict], *, period=TWO_YEARS, complete=True) -> Path:
    for clinic_id, kpis in clinics.items():
        folder = root / clinic_id
        folder.mkdir(parents=True)
        payload = {"clinic_id": clinic_id, "clinic_name": f"{clinic_id}口腔", "period": period, "kpis": kpis,
                   "channels": {}, "complete": complete}
        (folder / "kpis.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture()
def five(tmp_path):
    """Five clinics whose conversion is 50..90% and no-show rate 25..5%; 东 is the weakest on both."""
    values = {"东": (0.5, 0.25), "南": (0.6, 0.20), "西": (0.7, 0.15), "北": (0.8, 0.10), "中": (0.9, 0.05)}
    out = write_out(tmp_path / "out", {k: _kpis(first_visit_conversion=c, no_show_rate=n) for k, (c, n) in values.items()})
    write_out(out, {"半途": _kpis()}, complete=False)  # its run stopped at a failing chapter
    (out / "坏的").mkdir()
    (out / "坏的" / "kpis.json").write_text("{not json", encoding="utf-8")
    return out


def test_each_clinic_is_set_against_the_portfolios_median_and_quartiles(five):
    clinics = portfolio.read_portfolio(five)
    assert sorted(clinics.clinics["clinic_id"]) == sorted(["东", "南", "西", "北", "中"])
    assert dict(clinics.excluded) == {"半途": "its last run did not finish", "坏的": "kpis.json cannot be read"}

    bench = portfolio.benchmark(clinics)
    conversion = bench.rows("first_visit_conversion").set_index("clinic_id")
    assert conversion["median"].iloc[0] == pytest.approx(0.7)
    assert (conversion["q1"].iloc[0], conversion["q3"].iloc[0]) == (pytest.approx(0.6), pytest.approx(0.8))
    assert conversion["rank"].to_dict() == {"中": 1, "北": 2, "西": 3, "南": 4, "东": 5}
    # strictly past the quartile: 南 sits on the lower quartile, so it is in the middle, not the bottom
    assert conversion["position"].to_dict() == {"中": "top", "北": "middle", "西": "middle", "南": "middle",
                                                "东": "bottom"}
    assert conversion.loc["东", "gap"] == pytest.approx(-0.2)  # 20 points under the median

    no_shows = bench.rows("no_show_rate").set_index("clinic_id")  # less is better
    assert no_shows["rank"].to_dict() == {"中": 1, "北": 2, "西": 3, "南": 4, "东": 5}
    assert no_shows.loc["东", "position"] == "bottom" and no_shows.loc["中", "position"] == "top"


def test_volumes_are_compared_per_month_of_each_clinics_period(tmp_path):
    out = write_out(tmp_path, {"一年": _kpis(revenue=1_200_000.0)}, period={"start": "2025-01-01", "end": "2025-12-31"})
    write_out(out, {"两年": _kpis(revenue=2_400_000.0)})
    clinics = portfolio.read_portfolio(out).clinics.set_index("clinic_id")
    # the same 100,000 a month, whatever the period's length
    assert clinics.loc["一年", "revenue"] == pytest.approx(1_200_000 / (365 / (365.25 / 12)))
    assert clinics.loc["两年", "revenue"] == pytest.approx(2_400_000 / (731 / (365.25 / 12)))
    assert clinics.loc["一年", "revenue"] == pytest.approx(clinics.loc["两年", "revenue"], rel=0.002)
    assert not portfolio.read_portfolio(out).same_period


def test_the_findings_name_the_clinic_to_follow_up_and_where_to_look(five):
    bench = portfolio.benchmark(portfolio.read_portfolio(five))
    assert bench.finding("zh") == "本组合共5家诊所；东口腔有2项指标落在后四分之一（初诊成交率、爽约率），应最先跟进。"
    assert bench.measure_finding("first_visit_conversion", "zh") == \
        "初诊成交率：东口腔最低，50.0%，比中位数低20.0个百分点"
    # every clinic but one misses the 80% line [S2]: not all, so not said
    assert "方法线" not in bench.measure_finding("first_visit_conversion", "zh")
    assert bench.measure_finding("no_show_rate", "en") == \
        "No-show rate: 东口腔 is highest at 25.0%, 10.0 points above the median; median 15.0%"
    assert bench.measure_advice("no_show_rate", "zh") == \
        "东口腔落在后四分之一，先读其诊所报告的“医生与运营”一章找出原因；中口腔（5.0%）的做法可供借鉴。"
    assert bench.measure_finding("referral_share", "zh") == "转介绍占比：5家诊所相同，都是30.0%；5家都未达方法线40.0%"


def test_with_fewer_than_four_clinics_only_the_median_is_used(tmp_path):
    out = write_out(tmp_path, {"甲": _kpis(first_visit_conversion=0.6), "乙": _kpis(first_visit_conversion=0.8),
                               "丙": _kpis(first_visit_conversion=None)})
    bench = portfolio.benchmark(portfolio.read_portfolio(out))
    rows = bench.rows("first_visit_conversion").set_index("clinic_id")
    assert rows["position"].to_dict() == {"乙": "above_median", "甲": "below_median", "丙": rows.loc["丙", "position"]}
    assert pd.isna(rows.loc["丙", "position"])  # no value, no position
    assert rows.loc["乙", "n"] == 2 and pd.isna(rows.loc["丙", "rank"])
    assert set(bench.table["position"].dropna()) <= {"above_median", "below_median"} and bench.bottom().empty
    assert "只与中位数比较" in bench.finding("zh")
    assert "无数据" in bench.overview("zh").set_index("诊所").loc["丙口腔", "初诊成交率"]


def test_a_portfolio_needs_two_finished_clinics(tmp_path):
    out = write_out(tmp_path, {"独": _kpis()})
    with pytest.raises(PlaybookError, match="1 finished clinic"):
        portfolio.build_portfolio(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("portfolio")
    values = {"城东": 0.55, "城西": 0.62, "城南": 0.71, "城北": 0.78, "高新": 0.83}
    write_out(out, {k: _kpis(first_visit_conversion=c, revenue=2_000_000 + 100_000 * i)
                    for i, (k, c) in enumerate(values.items())})
    done = subprocess.run([*PLAYBOOK, "portfolio", str(out)], capture_output=True, text=True)
    return out, done


def test_the_chain_owner_gets_a_short_report_and_a_workbook(built):
    out, done = built
    assert done.returncode == 0, done.stderr
    assert f"pdf: {out / 'portfolio.pdf'}" in done.stdout
    pages = pypdf.PdfReader(out / "portfolio.pdf").pages
    text = "\n".join(page.extract_text() for page in pages)
    assert len(pages) <= 10  # a short report
    flat = text.replace(" ", "").replace("\n", "")  # the PDF's text runs come apart at spaces and line ends
    assert "门店对标" in flat and "城东口腔落在后四分之一，先读其诊所报告的“获客漏斗与渠道”一章找出原因" in flat
    assert "无需跟进" in flat  # new patients are the same everywhere: no clinic is called last
    assert done.stderr == ""
    for forbidden in ("nan", "NaN", "None", "import ", "Traceback"):
        assert forbidden not in text
    html = (out / "portfolio.html").read_text(encoding="utf-8")
    assert html.count("<img") == len(portfolio.MEASURES)  # one ranked chart per measure


def test_the_workbook_has_a_ranking_sheet_per_measure_with_the_bottom_quarter_red(built):
    out, _ = built
    book = load_workbook(out / "portfolio.xlsx")
    assert book.sheetnames == ["对标总览", *(m.zh for m in portfolio.MEASURES), "组合统计"]
    sheet = book["初诊成交率"]
    header = [c.value for c in sheet[2]]
    assert header == ["排名", "诊所", "数值", "中位数", "下四分位", "上四分位", "状态"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert [r[1] for r in rows] == ["高新口腔", "城北口腔", "城南口腔", "城西口腔", "城东口腔"]
    assert rows[-1][6] == "后四分之一" and rows[0][6] == "前四分之一"
    assert sheet["C3"].number_format == "0.0%" and sheet.freeze_panes == "A3"
    rules = [rule for fmt in sheet.conditional_formatting for rule in fmt.rules]
    assert any('"后四分之一"' in rule.formula[0] for rule in rules)
    overview = book["对标总览"]
    assert [c.value for c in overview[2]][:3] == ["诊所", "clinic_id", "分析期"]
    assert overview["D3"].value == pytest.approx(2_000_000 / (731 / (365.25 / 12)))  # revenue per month
