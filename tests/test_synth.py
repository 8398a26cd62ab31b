"""Known-answer tests of the sample-clinic generator (playbook.synth).

The plants are measured straight from the canonical tables with the KPI contract of method.md,
written out here in a few lines so these tests do not depend on the KPI module. Plant checks run at
scale 1 (the bundled sample, ~0.3 s to generate) because at small scale a channel has too few
patients for a tight tolerance; determinism and export checks run at scale 0.2.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from python_calamine import CalamineWorkbook

from playbook import schema, synth

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"
PLANT_START = pd.Timestamp("2025-07-01")
# Profit and high-value item keywords of method.md (traffic and untiered items do not convert).
PAID_ITEM = "补牙|根管治疗|拔牙|智齿拔除|儿童龋齿修复|种植|正畸|隐形矫正|烤瓷冠|全瓷冠|牙冠|修复"


# -- the KPI contract, minimal ---------------------------------------------------------------------

def first_arrivals(t) -> pd.Series:
    """patient_id -> day of the earliest arrived visit."""
    v = t["visits"]
    return v[v["status"] == "arrived"].groupby("patient_id")["scheduled_at"].min().dt.normalize()


def new_patients(t, start, end) -> pd.Series:
    fa = first_arrivals(t)
    return fa[(fa >= pd.Timestamp(start)) & (fa <= pd.Timestamp(end))]


def converted(t, firsts: pd.Series) -> pd.Series:
    """Paid (> 0) for a profit or high-value item within 30 days of the first arrival."""
    c = t["charges"]
    c = c[(c["amount_paid"] > 0) & c["item"].str.contains(PAID_ITEM) & c["patient_id"].isin(firsts.index)]
    days = (c["paid_at"].dt.normalize() - firsts.reindex(c["patient_id"]).to_numpy()).dt.days
    ok = set(c["patient_id"][(days >= 0) & (days <= 30)])
    return pd.Series(firsts.index.isin(list(ok)), index=firsts.index)


def channel_of(t, ids) -> pd.Series:
    return t["patients"].set_index("patient_id")["source_channel"].reindex(ids)


def conversion(t, start, end, channel=None) -> float:
    firsts = new_patients(t, start, end)
    if channel:
        firsts = firsts[(channel_of(t, firsts.index) == channel).to_numpy()]
    return converted(t, firsts).mean()


def referral_share(t, start, end) -> float:
    return (channel_of(t, new_patients(t, start, end).index) == "转介绍").mean()


def no_show_rate(visits: pd.DataFrame) -> float:
    counted = visits[visits["status"] != "cancelled"]
    return (counted["status"] == "no_show").mean()


def monthly_revenue(t) -> pd.Series:
    c = t["charges"]
    return c.groupby(c["paid_at"].dt.to_period("M"))["amount_paid"].sum()


def cost_ratio(t, category: str) -> float:
    costs = t["costs"]
    return costs.loc[costs["category"] == category, "amount"].sum() / t["charges"]["amount_paid"].sum()


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def general():
    return synth.generate("general", seed=7)


@pytest.fixture(scope="module")
def general_healthy():
    return synth.generate("general", seed=7, problems=False)


@pytest.fixture(scope="module")
def children():
    return synth.generate("children", seed=7)


@pytest.fixture(scope="module")
def children_healthy():
    return synth.generate("children", seed=7, problems=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    for kind in synth.KINDS:
        synth.write_sample(kind, root / kind, seed=3, scale=0.2)
    return root


# -- determinism and shape -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", synth.KINDS)
def test_same_seed_gives_identical_tables(kind):
    a = synth.generate(kind, seed=11, scale=0.2)
    b = synth.generate(kind, seed=11, scale=0.2)
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert a.config == b.config and a.plants == b.plants


@pytest.mark.parametrize("kind", synth.KINDS)
def test_different_seed_gives_different_tables(kind):
    a = synth.generate(kind, seed=11, scale=0.2)
    b = synth.generate(kind, seed=12, scale=0.2)
    for name in ("patients", "visits", "charges"):
        assert not a.tables[name].equals(b.tables[name])


@pytest.mark.parametrize("kind", synth.KINDS)
def test_tables_follow_the_schema(kind):
    clinic = synth.generate(kind, scale=0.2)
    assert set(schema.MINIMAL_TABLES) <= set(clinic.tables)
    for name, table in clinic.tables.items():
        spec = schema.TABLES[name]
        order = [c.name for c in spec.columns if c.name in table.columns]
        assert list(table.columns) == order, name
        assert set(spec.required) <= set(table.columns), name
        if spec.key:
            assert table[spec.key].is_unique, name


def test_volume_and_scale(general):
    t = general.tables
    assert 4500 <= len(t["patients"]) <= 5600
    assert 25_000 <= len(t["visits"]) <= 33_000
    assert 48_000 <= len(t["charges"]) <= 66_000
    small = synth.generate("general", scale=0.25)
    assert len(small.tables["patients"]) / len(t["patients"]) == pytest.approx(0.25, rel=0.1)


def test_children_clinic_has_only_the_minimal_tables_plus_costs_staff_and_feedback(children):
    assert set(children.tables) == {"patients", "visits", "charges", "costs", "staff", "surveys", "reviews"}
    assert 1700 <= len(children.tables["patients"]) <= 2400


def test_config(general, children):
    assert general.config["clinic_id"] == "general_clinic" and general.config["name"] == "示例综合口腔门诊"
    assert children.config["clinic_id"] == "children_clinic" and children.config["name"] == "示例儿童齿科"
    for c in (general, children):
        assert str(c.config["period"]["start"]) == "2024-01-01" and str(c.config["period"]["end"]) == "2025-12-31"
        assert c.config["lang"] == "zh" and c.config["consultant"] == "示例顾问"


def test_data_ranges(general, children):
    for clinic, first_day in ((general, "2022-01-01"), (children, "2023-01-01")):
        v, c = clinic.tables["visits"], clinic.tables["charges"]
        assert v["scheduled_at"].min() >= pd.Timestamp(first_day)
        assert v["scheduled_at"].max() < pd.Timestamp("2026-01-01")
        assert c["paid_at"].min() >= pd.Timestamp(first_day)
        assert c["paid_at"].max() < pd.Timestamp("2026-01-01")


# -- realism ---------------------------------------------------------------------------------------

def test_visits_are_realistic(general):
    v = general.tables["visits"]
    assert set(v["status"]) == {"arrived", "no_show", "cancelled"}
    assert set(channel_of(general.tables, v["patient_id"])) == {"美团", "抖音", "大众点评", "地推", "转介绍", "自然到店"}
    assert set(v["department"]) == {"种植", "正畸", "修复", "儿牙", "牙周", "综合"}
    assert v["doctor_id"].nunique() == 6 and v["doctor_id"].str.endswith("医生").all()
    before = v[v["scheduled_at"] < PLANT_START]
    assert 0.08 <= no_show_rate(before) <= 0.12
    assert 0.04 <= (before["status"] == "cancelled").mean() <= 0.06
    # Each patient's earliest arrived visit is their first visit (初诊).
    arrived = v[v["status"] == "arrived"].sort_values(["patient_id", "scheduled_at"])
    assert (arrived.groupby("patient_id")["visit_type"].first() == "first").all()
    assert (arrived.groupby("patient_id")["visit_type"].apply(lambda s: (s == "first").sum()) == 1).all()


def test_charges_are_realistic(general):
    c, v = general.tables["charges"], general.tables["visits"]
    arrived = set(v.loc[v["status"] == "arrived", "visit_id"])
    assert c["visit_id"].isin(arrived).all()  # charges only on visits the patient came to
    unit = c[c["amount_paid"] > 0].groupby("item")["list_price"]  # one line per tooth or implant
    assert unit.min()["种植牙"] >= 8000 and unit.max()["种植牙"] <= 15000
    assert unit.min()["全瓷冠"] >= 2000 and unit.max()["烤瓷冠"] <= 5000
    assert unit.min()["树脂补牙"] >= 200 and unit.max()["树脂补牙"] <= 600
    assert unit.min()["超声波洁牙"] >= 100 and unit.max()["超声波洁牙"] <= 300
    ortho = c[c["item"] == "隐形矫正"].groupby("patient_id")["list_price"].sum()
    assert ortho.median() >= 20000 and ortho.max() <= 35000
    refunds = c[c["amount_paid"] < 0]
    assert 0 < len(refunds) < 0.01 * len(c)
    assert {"挂号费", "药品"} <= set(c["item"]) and set(c["designated"]) == {True, False}


def test_patients_are_realistic(general, children):
    for clinic in (general, children):
        p = clinic.tables["patients"]
        assert p["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
        assert p["name"].str.fullmatch(r"[\u3400-\u9fff]{2,4}").all()
        fa = first_arrivals(clinic.tables)
        referred = p.dropna(subset=["referrer_patient_id"])
        assert (referred["source_channel"] == "转介绍").all()
        # The referrer came before the patient they referred.
        assert (fa.reindex(referred["referrer_patient_id"]).to_numpy()
                <= fa.reindex(referred["patient_id"]).fillna(pd.Timestamp("2100-01-01")).to_numpy()).all()
    # Some booked a first visit and never came: no first arrival, no first-visit date.
    p = general.tables["patients"]
    never = ~p["patient_id"].isin(first_arrivals(general.tables).index)
    assert 0.02 <= never.mean() <= 0.06
    assert p.loc[never, "first_visit_date"].isna().all()
    assert (p.loc[~never, "first_visit_date"].to_numpy()
            == first_arrivals(general.tables).reindex(p.loc[~never, "patient_id"]).to_numpy()).all()


# -- the plants, general clinic --------------------------------------------------------------------

def test_plants_are_documented(general, children, general_healthy):
    assert [p["id"] for p in general.plants] == [
        "douyin_conversion", "implant_doctor_leaves", "low_referral", "meituan_no_show", "consumables_high",
        "coordinator_cherry_picking", "doctor_nps_falls", "slow_waits"]
    assert [p["id"] for p in children.plants] == ["low_family_conversion", "school_hours_no_show", "idle_prime_chair",
                                                  "weekend_crowd"]
    for plant in general.plants + children.plants:
        assert set(plant) == {"id", "what_en", "what_zh", "where", "from", "expected_signal_en"}
        pd.Timestamp(plant["from"])
    assert general_healthy.plants == []


def test_douyin_conversion_collapses_while_its_volume_rises(general):
    t = general.tables
    before = conversion(t, "2024-01-01", "2025-06-30", "抖音")
    after = conversion(t, "2025-07-01", "2025-12-31", "抖音")
    assert before == pytest.approx(0.6, abs=0.08)
    assert after == pytest.approx(0.2, abs=0.06)
    firsts = new_patients(t, "2024-01-01", "2025-12-31")
    douyin = firsts[(channel_of(t, firsts.index) == "抖音").to_numpy()]
    per_month_before = (douyin < PLANT_START).sum() / 18
    per_month_after = (douyin >= PLANT_START).sum() / 6
    assert per_month_after > 1.8 * per_month_before
    # The other channels stay above the 80% line.
    for channel in ("美团", "大众点评", "地推", "转介绍", "自然到店"):
        assert conversion(t, "2024-01-01", "2025-06-30", channel) >= 0.8, channel


def test_douyin_campaign_and_leads(general):
    campaigns, leads = general.tables["campaigns"], general.tables["leads"]
    card = campaigns[campaigns["offer_price"] == 9.9]
    assert len(card) == 1 and card["channel"].item() == "抖音"
    assert card["start"].item() == PLANT_START
    douyin = leads[leads["channel"] == "抖音"]
    assert douyin["arrived"].mean() == pytest.approx(0.15, abs=0.02)
    assert (leads.loc[leads["arrived"], "patient_id"].notna()).all()


def test_implant_doctor_leaves(general, general_healthy):
    t = general.tables
    c, v = t["charges"], t["visits"]
    gone = pd.Timestamp("2025-09-01")
    assert not ((v["doctor_id"] == "王医生") & (v["scheduled_at"] >= gone)).any()
    assert not ((c["doctor_id"] == "王医生") & (c["paid_at"] >= gone)).any()
    assert 0.62 <= c.loc[c["doctor_id"] == "王医生", "designated"].mean() <= 0.8
    # Implant revenue (charges on 种植 visits) per month falls after he leaves.
    dept = v.set_index("visit_id")["department"]
    implant = c[dept.reindex(c["visit_id"]).to_numpy() == "种植"]
    by_month = implant.groupby(implant["paid_at"].dt.to_period("M"))["amount_paid"].sum()
    before = by_month["2025-01":"2025-08"].mean()
    after = by_month["2025-09":"2025-12"].mean()
    assert after < 0.6 * before
    # Healthy twin: he stays and is not a key-person risk.
    h = general_healthy.tables["charges"]
    assert ((h["doctor_id"] == "王医生") & (h["paid_at"] >= gone)).any()
    assert h.groupby("doctor_id")["designated"].mean().max() < 0.6


def test_referral_share_below_the_line_and_falling(general):
    t = general.tables
    before = referral_share(t, "2024-01-01", "2025-06-30")
    after = referral_share(t, "2025-07-01", "2025-12-31")
    assert 0.24 <= before <= 0.31
    assert after < before - 0.05
    assert referral_share(t, "2024-01-01", "2025-12-31") < 0.30


def test_meituan_no_show_rises(general):
    t = general.tables
    v = t["visits"].assign(channel=channel_of(t, t["visits"]["patient_id"]).to_numpy())
    after = v["scheduled_at"] >= PLANT_START
    meituan = v["channel"] == "美团"
    assert no_show_rate(v[meituan & ~after]) == pytest.approx(0.09, abs=0.025)
    assert no_show_rate(v[meituan & after]) == pytest.approx(0.25, abs=0.04)
    assert no_show_rate(v[~meituan & after]) < 0.13


def test_consumables(general, general_healthy, children):
    assert cost_ratio(general.tables, "耗材") == pytest.approx(0.09, abs=0.005)
    assert cost_ratio(general_healthy.tables, "耗材") == pytest.approx(0.06, abs=0.005)
    assert cost_ratio(children.tables, "耗材") == pytest.approx(0.06, abs=0.005)
    monthly = general.tables["costs"].query("category == '耗材'").set_index("month")["amount"]
    ratio = monthly.to_numpy() / monthly_revenue(general.tables).to_numpy()
    assert ratio.min() > 0.08 and ratio.max() < 0.10  # every month, not only on average


def test_revenue_falls_in_the_last_two_quarters(general, general_healthy):
    q = general.tables["charges"].pipe(lambda c: c.groupby(c["paid_at"].dt.to_period("Q"))["amount_paid"].sum())
    assert q["2025Q3"] < q["2025Q2"] and q["2025Q4"] < q["2025Q3"]
    h = general_healthy.tables["charges"]
    halves = h.groupby([h["paid_at"].dt.year, h["paid_at"].dt.month > 6])["amount_paid"].sum()
    assert halves[(2025, True)] > halves[(2025, False)]


def test_healthy_general_clinic_crosses_no_threshold(general_healthy):
    t = general_healthy.tables
    start, end = "2024-01-01", "2025-12-31"
    assert conversion(t, start, end) >= 0.85
    for channel in ("美团", "抖音", "大众点评", "地推", "转介绍", "自然到店"):
        assert conversion(t, start, end, channel) >= 0.8, channel
    for a, b in (("2024-01-01", "2025-06-30"), ("2025-07-01", "2025-12-31")):
        assert referral_share(t, a, b) >= 0.42
    assert 0.05 <= cost_ratio(t, "耗材") <= 0.07
    assert 0.07 <= cost_ratio(t, "加工费") <= 0.08
    assert 0.03 <= cost_ratio(t, "库存") <= 0.05
    v = t["visits"].assign(channel=channel_of(t, t["visits"]["patient_id"]).to_numpy())
    assert v[v["scheduled_at"] >= PLANT_START].groupby("channel").apply(no_show_rate).max() < 0.14


# -- the plants, children's clinic -----------------------------------------------------------------

def family_ratio(t) -> float:
    """Adults referred by a child patient, per child patient (who came)."""
    p = t["patients"].set_index("patient_id")
    came = p.loc[first_arrivals(t).index]
    age = first_arrivals(t).dt.year - came["birth_year"].astype("float")
    child = age.reindex(came.index) <= 14
    kids = came.index[child.to_numpy()]
    family = came[(came["source_channel"] == "转介绍") & came["referrer_patient_id"].isin(kids)
                  & (age.reindex(came.index) > 18).to_numpy()]
    return len(family) / len(kids)


def test_child_to_family_conversion(children, children_healthy):
    assert family_ratio(children.tables) == pytest.approx(0.3, abs=0.06)
    assert family_ratio(children_healthy.tables) == pytest.approx(1.0, abs=0.12)


def school_hours(v: pd.DataFrame) -> pd.Series:
    at = v["scheduled_at"]
    return (at.dt.day_of_week < 5) & (at.dt.hour >= 13) & (at.dt.hour < 17)


def test_weekday_afternoon_no_shows(children, children_healthy):
    for clinic, expected in ((children, 0.30), (children_healthy, 0.075)):
        t = clinic.tables
        p = t["patients"].set_index("patient_id")
        kid = (t["visits"]["scheduled_at"].dt.year
               - p["birth_year"].reindex(t["visits"]["patient_id"]).astype("float").to_numpy()) <= 14
        v = t["visits"][kid.to_numpy()]
        assert no_show_rate(v[school_hours(v)]) == pytest.approx(expected, abs=0.04)
        assert no_show_rate(v[~school_hours(v)]) == pytest.approx(0.075, abs=0.025)


def test_children_items_and_conversion(children_healthy):
    t = children_healthy.tables
    assert {"涂氟", "窝沟封闭", "儿童龋齿修复", "早期矫正", "口腔检查"} <= set(t["charges"]["item"])
    assert set(t["visits"]["department"]) == {"儿牙", "正畸", "综合"}
    # Healthy even when 早期矫正 is not counted as a high-value item (it has no method keyword).
    assert conversion(t, "2024-01-01", "2025-12-31") >= 0.85
    assert referral_share(t, "2024-01-01", "2025-12-31") >= 0.4


# -- exports ---------------------------------------------------------------------------------------

def read_csv_rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def read_sheet(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def money(text) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    return float(unicodedata.normalize("NFKC", text).replace("¥", "").replace(",", ""))


def recognised(table: str, headers: list[str]) -> None:
    known = {h for c in schema.TABLES[table].columns for h in c.headers}
    for h in headers:
        assert h in known or h in schema.DROPPED_PII_HEADERS, (table, h)


def test_clinic_yaml_lists_the_files(exported):
    for kind in synth.KINDS:
        config = yaml.safe_load((exported / kind / "clinic.yaml").read_text(encoding="utf-8"))
        assert config["clinic_id"] == f"{kind}_clinic"
        assert str(config["period"]["start"]) == "2024-01-01"
        for table, file in config["files"].items():
            assert table in schema.TABLES and (exported / kind / file).exists()


def test_general_charges_csv(exported):
    path = exported / "general" / "charges.csv"
    assert path.read_bytes().startswith("\ufeff".encode("utf-8"))
    rows = read_csv_rows(path, "utf-8-sig")
    assert rows[0][0] == "收费明细表 2022年1月-2025年12月" and rows[1][0] == "示例综合口腔门诊"
    header = rows[2]
    recognised("charges", header)
    body, total = rows[3:-1], rows[-1]
    assert any(not any(r) for r in body)  # the blank spacer row
    lines = [r for r in body if any(r)]
    amount = header.index("实收金额")
    assert total[0] == "合计"
    assert money(total[amount]) == pytest.approx(sum(money(r[amount]) for r in lines), abs=0.01)
    assert all(r[amount].startswith(("¥", "￥")) for r in lines)
    assert any(re.search("[０-９]", r[amount]) for r in lines)  # a few full-width amounts
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", r[header.index("收费时间")]) for r in lines)


def test_general_visits_csv_is_gb18030(exported):
    path = exported / "general" / "visits.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    rows = read_csv_rows(path, "gb18030")
    recognised("visits", rows[0])
    status = {r[rows[0].index("到诊状态")] for r in rows[1:]}
    assert status == {"已到诊", "爽约", "已取消"}
    assert {r[rows[0].index("初复诊")] for r in rows[1:]} == {"初诊", "复诊"}
    assert all(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}", r[rows[0].index("预约时间")]) for r in rows[1:])
    assert any(re.fullmatch(r"\d{4}/\d/\d \d{2}:\d{2}", r[rows[0].index("预约时间")]) for r in rows[1:])


def test_general_patients_xlsx(exported):
    rows = read_sheet(exported / "general" / "patients.xlsx", "患者档案")
    assert rows[0][0] == "患者档案导出" and rows[1][0].startswith("导出时间")
    header = rows[2]
    recognised("patients", header)
    assert "家庭住址" in header and "姓名" in header and "手机号" in header
    dates = [r[header.index("首诊日期")] for r in rows[3:]]
    kinds = {type(d).__name__ for d in dates if d != ""}
    assert {"date", "str", "float"} <= kinds  # date cells, 2024年1月5日 text, Excel serial numbers
    assert any(re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", d) for d in dates if isinstance(d, str))


def test_general_optional_tables_have_chinese_headers(exported):
    folder = exported / "general"
    recognised("leads", read_csv_rows(folder / "leads.csv", "gb18030")[0])
    for table, file, sheet in (("treatment_plans", "treatment_plans.xlsx", "治疗计划"),
                               ("campaigns", "campaigns.xlsx", "营销活动"), ("costs", "costs.xlsx", "月度成本"),
                               ("staff", "staff.xlsx", "员工")):
        recognised(table, read_sheet(folder / file, sheet)[0])


def test_children_exports(exported):
    folder = exported / "children"
    patients = read_csv_rows(folder / "patients.csv", "gb18030")
    recognised("patients", patients[0])
    visits = read_sheet(folder / "visits.xlsx", "就诊记录")
    recognised("visits", visits[0])
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", r[visits[0].index("就诊时间")]) for r in visits[1:])
    charges = read_sheet(folder / "charges.xlsx", "收费明细")
    header = charges[1]
    recognised("charges", header)
    amount = header.index("实付金额")
    assert charges[-1][0] == "总计"
    assert charges[-1][amount] == pytest.approx(sum(money(r[amount]) for r in charges[2:-1]), abs=0.01)
    recognised("costs", read_sheet(folder / "costs.xlsx", "成本")[0])
    recognised("staff", read_csv_rows(folder / "staff.csv", "utf-8-sig")[0])


def test_exports_carry_the_canonical_content(exported):
    clinic = synth.generate("general", seed=3, scale=0.2)
    rows = read_csv_rows(exported / "general" / "charges.csv", "utf-8-sig")
    lines = [r for r in rows[3:-1] if any(r)]
    canonical = clinic.tables["charges"]
    assert len(lines) == len(canonical)
    amounts = np.array([money(r[rows[2].index("实收金额")]) for r in lines])
    np.testing.assert_allclose(amounts, canonical["amount_paid"].to_numpy())
    visits = read_csv_rows(exported / "general" / "visits.csv", "gb18030")
    assert [r[0] for r in visits[1:]] == clinic.tables["visits"]["visit_id"].tolist()


def test_export_refuses_a_non_empty_folder(tmp_path):
    clinic = synth.generate("children", scale=0.1)
    synth.export(clinic, tmp_path)
    with pytest.raises(FileExistsError):
        synth.export(clinic, tmp_path)
    with pytest.raises(FileExistsError):
        synth.write_sample("children", tmp_path, scale=0.1)
    assert synth.export(clinic, tmp_path, overwrite=True)[0].name == "clinic.yaml"


# -- the committed samples -------------------------------------------------------------------------

def file_content(path: Path):
    """What a file says: its bytes, or for xlsx the cell values of every sheet (zip timestamps differ)."""
    if path.suffix != ".xlsx":
        return path.read_bytes()
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


@pytest.mark.parametrize("kind", synth.KINDS)
def test_committed_samples_are_what_write_sample_makes(kind, tmp_path):
    committed = SAMPLES / f"{kind}_clinic"
    fresh = synth.write_sample(kind, tmp_path / kind, seed=7)
    assert sorted(p.name for p in committed.iterdir() if p.name != "README.md") == sorted(p.name for p in fresh)
    for path in fresh:
        assert file_content(committed / path.name) == file_content(path), path.name


# -- coordinators, the clock and feedback (drawn last, from a stream of their own) -------------------------

def _first_visit_coordinator(t) -> pd.Series:
    v = t["visits"]
    arrived = v[v["status"] == "arrived"].sort_values(["scheduled_at", "visit_id"]).drop_duplicates("patient_id")
    return arrived.set_index("patient_id")["consultant_id"]


def test_the_cherry_picking_coordinator_converts_fewer_basic_complaints(general, general_healthy):
    for clinic, far_behind in ((general, True), (general_healthy, False)):
        t = clinic.tables
        firsts = new_patients(t, "2024-01-01", "2025-12-31")
        frame = pd.DataFrame({"converted": converted(t, firsts), "who": _first_visit_coordinator(t).reindex(firsts.index)})
        rates = frame.groupby("who")["converted"].mean()
        gap = rates.drop("周咨询师").min() - rates["周咨询师"]
        assert (gap > 0.1) == far_behind, rates


def test_visit_times_are_consistent_and_the_slow_doctor_waits(general, children):
    for clinic in (general, children):
        v = clinic.tables["visits"]
        arrived = v[v["status"] == "arrived"]
        assert arrived[["checked_in_at", "started_at"]].notna().all().all()
        assert v.loc[v["status"] != "arrived", ["checked_in_at", "started_at"]].isna().all().all()
        assert (arrived["started_at"] >= arrived["scheduled_at"]).all()
    v = general.tables["visits"]
    assert (v["ended_at"].dropna() > v.loc[v["ended_at"].notna(), "started_at"]).all()
    assert (v["booked_at"] <= v["scheduled_at"]).all()
    late = v[(v["doctor_id"] == "李医生") & (v["scheduled_at"] >= "2025-09-01") & (v["status"] == "arrived")]
    wait = (late["started_at"] - late[["checked_in_at", "scheduled_at"]].max(axis=1)).dt.total_seconds() / 60
    assert wait.mean() == pytest.approx(24, abs=4)
    assert "ended_at" not in children.tables["visits"] and "booked_at" not in children.tables["visits"]


def test_surveys_and_reviews_carry_their_plants(general, children, general_healthy):
    def nps(scores):
        return 100 * ((scores >= 9).mean() - (scores <= 6).mean())

    for clinic, fell in ((general, True), (general_healthy, False)):
        s = clinic.tables["surveys"]
        liu = s[s["doctor_id"] == "刘医生"]
        drop = nps(liu.loc[liu["surveyed_at"] < PLANT_START, "score"]) - nps(liu.loc[liu["surveyed_at"] >= PLANT_START, "score"])
        assert (drop > 30) == fell, drop
        assert s["score"].between(0, 10).all()
    r = children.tables["reviews"]
    assert r.loc[r["reviewed_at"] >= PLANT_START, "stars"].mean() < 4 < r.loc[r["reviewed_at"] < PLANT_START, "stars"].mean()
