"""The clinic's story: the fall between two windows split by cause so that the parts add up, every finding
counted once by one method, causes told from standing weaknesses; the report states what it shows."""
from __future__ import annotations

import datetime as dt
import re

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from playbook import load_clinic  # noqa: E402
from playbook.config import SAMPLES_DIR  # noqa: E402
from playbook.diagnosis import diagnose  # noqa: E402
from playbook.drivers import DRIVERS, cell_effects  # noqa: E402
from playbook.results import CAUSE, MERGED, PROFIT, STANDING, SYMPTOM, UPSIDE  # noqa: E402


@pytest.fixture(scope="module")
def general():
    return diagnose(load_clinic(SAMPLES_DIR / "general_clinic"))


@pytest.fixture(scope="module")
def children():
    return diagnose(load_clinic(SAMPLES_DIR / "children_clinic"))


def _by_key(story):
    return {f.key: f for f in story.findings}


# --- the driver tree per cell ----------------------------------------------------------------------


def test_cell_effects_known_answer_one_cell_loses_half_its_patients():
    """Cell X: 10 patients paying 10 yuan each once, then 5; cell Y unchanged. Only X's arrivals moved,
    so its arrivals effect is the whole −50 (one factor moved: the LMDI effect is the change itself)."""
    charges, visits = [], []
    for window, n_x in ((dt.date(2025, 1, 10), 10), (dt.date(2025, 7, 10), 5)):
        for cell, n in (("X", n_x), ("Y", 4)):
            for i in range(n):
                pid = f"{cell}{i}"
                charges.append({"patient_id": pid, "paid_at": pd.Timestamp(window), "amount_paid": 10.0,
                                "tier": "profit", "cell": cell})
                visits.append({"patient_id": pid, "scheduled_at": pd.Timestamp(window), "status": "arrived",
                               "cell": cell})
    charges, visits = pd.DataFrame(charges), pd.DataFrame(visits)
    table = cell_effects(charges, visits, charge_cell=charges["cell"], visit_cell=visits["cell"],
                         start=dt.date(2025, 7, 1), end=dt.date(2025, 12, 31), base_start=dt.date(2025, 1, 1),
                         base_end=dt.date(2025, 6, 30))
    assert table.loc["X", "revenue_change"] == pytest.approx(-50.0)
    assert table.loc["X", "arrivals"] == pytest.approx(-50.0)
    assert table.loc["X", ["conversion", "ticket", "frequency"]].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert table.loc["Y", list(DRIVERS)].abs().sum() == pytest.approx(0.0)


def test_the_cells_add_up_exactly_to_the_clinics_revenue_change(general):
    story = general.story
    clinic = general.clinic
    from playbook.story import _cells

    charge_cell, visit_cell = _cells(clinic)
    table = cell_effects(clinic.charges, clinic.visits, charge_cell=charge_cell, visit_cell=visit_cell,
                         start=story.current.start, end=story.current.end, base_start=story.baseline.start,
                         base_end=story.baseline.end)
    assert table["revenue_change"].sum() == pytest.approx(story.change, abs=0.01)
    assert table[list(DRIVERS)].sum(axis=1).to_numpy() == pytest.approx(table["revenue_change"].to_numpy(), abs=1e-6)


# --- the general sample: what changed and why --------------------------------------------------------


def test_the_general_sample_names_its_windows_and_the_change_a_year(general):
    story = general.story
    assert (story.baseline.start, story.baseline.end) == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    assert (story.current.start, story.current.end) == (dt.date(2025, 7, 1), dt.date(2025, 12, 31))
    assert (story.year_earlier.start, story.year_earlier.end) == (dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    assert story.fell and not story.seasonal
    # 2,085k in 2025Q2 … 1,413k in Q4 (data_samples/README.md): H2 − H1 = −796,282 yuan, 184 days
    assert story.change == pytest.approx(-796_281.74, abs=1)
    assert story.per_year == pytest.approx(-796_281.74 * 365 / 184, abs=1)


def test_the_causes_and_the_other_changes_add_up_to_the_change(general):
    story = general.story
    assert sum(-f.stake.decline for f in story.causes) + story.other_per_year == pytest.approx(story.per_year)
    assert story.table["per_year"].sum() == pytest.approx(story.per_year)
    assert story.table["change"].sum() == pytest.approx(story.change, abs=0.01)


def test_the_largest_cause_is_the_departed_doctor_and_referral_is_a_standing_weakness(general):
    """Planted: the implant chief leaves (the fall); referral share was under 30% all along (standing)."""
    story, found = general.story, _by_key(general.story)
    assert story.causes[0].key == "doctor_weeks_inactive@王医生"
    assert general.ranking.flags[0].key == "doctor_weeks_inactive@王医生"
    assert found["referral_share@转介绍"].role == STANDING
    assert found["no_show_rate_channel@美团"].role == UPSIDE  # 10.6% before, within the line: new
    assert found["consumables_share@consumables"].role == PROFIT
    assert found["consumables_share@consumables"].revenue_at_stake == 0  # a cost saving is not revenue
    assert {f.key for f in story.findings if f.role == SYMPTOM} >= {"revenue_change_recent"}
    assert "下降最大的原因是王医生离开" in story.finding("zh")
    assert "The largest cause of the fall is 王医生 leaving" in story.finding("en")


def test_one_loss_appears_in_one_finding(general):
    """王医生 was counted three times (130.5 + 26.1 + 21.9万): his other findings now count in his departure;
    the 抖音 ROI counts in its conversion."""
    found = _by_key(general.story)
    for key in ("overdue_share_by_doctor@王医生", "plan_completion@王医生"):
        assert found[key].role == MERGED and found[key].stake.counted_in == "doctor_weeks_inactive@王医生"
        assert found[key].revenue_at_stake == 0
    assert found["roi_weekly_latest@抖音"].stake.counted_in == "first_visit_conversion_recent@抖音"
    revenue = general.clinic.charges["amount_paid"].sum() / 4  # four years of data: a year's revenue
    assert found["referral_share@转介绍"].revenue_at_stake < 0.1 * revenue  # was 172.6万, a quarter of a year's
    for f in general.story.findings:
        assert f.revenue_at_stake == pytest.approx(f.stake.decline + f.stake.beyond, abs=0.02)


def test_every_finding_is_counted_by_the_one_method(general, children):
    for diagnosis in (general, children):
        for f in diagnosis.story.findings:
            assert f.stake.method in ("driver_tree", "merged", "story", "cost_excess", "none"), f.key
            assert f.role, f.key


def test_the_cherry_picking_coordinator_is_valued_on_her_own_patients(general):
    """Planted [S4]: 周咨询师 converts basic complaints badly. Her patients (their first visit's coordinator)
    are cells of the driver tree like a doctor's or a channel's, so her finding carries revenue, and what a
    doctor's or a channel's finding claimed first is not counted again."""
    found = _by_key(general.story)
    coordinator = found["consultant_conversion@周咨询师"]
    assert coordinator.role == STANDING and coordinator.stake.method == "driver_tree"
    assert coordinator.revenue_at_stake > 0
    assert found["consultant_reappointment@周咨询师"].revenue_at_stake > 0
    assert found["doctor_first_visit_conversion@刘医生"].revenue_at_stake > 0  # his other patients' cells
    assert general.story.metrics()["story"]["causes"][0]["subject"] == "王医生"  # the bottleneck unchanged


def test_a_finding_whose_every_cell_another_holds_is_counted_in_it(children):
    """Planted: the children's clinic leaves prime chairs empty, and misses weekday-afternoon bookings. Both
    move the same arrivals of every cell; the no-shows (stronger evidence) hold them, so the idle chairs are
    "counted in" that finding instead of standing as an upside of "—"."""
    found = _by_key(children.story)
    chairs = found["chair_vacancy_prime"]
    assert chairs.role == MERGED and chairs.stake.counted_in == "no_show_rate_slot@weekday_afternoon"
    assert chairs.revenue_at_stake == 0 and found["no_show_rate_slot@weekday_afternoon"].revenue_at_stake > 0


# --- a clinic whose revenue did not fall -------------------------------------------------------------


def test_a_clinic_whose_revenue_rose_is_told_so_and_its_findings_are_upside_or_risks(children):
    story = children.story
    assert not story.fell and story.per_year > 0 and not story.causes
    assert all(f.stake.decline == 0 for f in story.findings)
    assert {f.role for f in story.findings} <= {STANDING, UPSIDE, "risk", PROFIT, SYMPTOM, MERGED}
    assert "营收没有下降" in story.finding("zh") and "Revenue did not fall" in story.finding("en")
    assert story.metrics()["story"]["causes"] == []


# --- the report states what it shows ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["general_clinic", "children_clinic"])
def test_the_report_shows_every_finding_and_counts_what_it_shows(sample, sample_run):
    """Every finding the ranking produces is in the ranking chapter; the top five are on the summary page;
    each count a sentence states equals the rows shown; the story's figures are in kpis.json."""
    import json

    result = sample_run(sample)
    data = json.loads(result.kpis.read_text(encoding="utf-8"))
    rows = data["bottlenecks"]
    html = result.html.read_text(encoding="utf-8")
    chapter = html[html.index(">瓶颈排序<"):html.index(">处方与行动计划<")]
    table = chapter[chapter.rindex("<table"):]
    shown = len(re.findall(r"<tr", table[table.index("<tbody"):table.index("</tbody>")]))
    assert shown == len(rows)
    stated = re.search(r"全部(\d+)条发现（其中(\d+)条需要立即处理）", chapter)
    assert stated and int(stated.group(1)) == shown
    assert int(stated.group(2)) == sum(r["severity"] == "red" for r in rows) == data["kpis"]["red_flags"]
    summary = html[html.index(">执行摘要<"):html.index(">核心指标<")]
    summary_table = summary[summary.index("原因与增长空间"):summary.index("处方与负责人")]
    told = [r for r in rows if r["role"] not in ("symptom", "merged")]
    assert len(re.findall(r"<tr", summary_table)) - 1 == min(5, len(told))
    tasks = re.search(r"共(\d+)项任务", summary)
    assert tasks and int(tasks.group(1)) == len(data["tasks"])
    plans = summary[summary.index("处方与负责人"):]
    plans = plans[plans.index("<tbody"):plans.index("</tbody>")]
    assert sum(int(n) for n in re.findall(r"<td[^>]*>(\d+)</td>\s*</tr>", plans)) == len(data["tasks"])
    story = data["story"]
    assert story["revenue_change"]["per_year"] is not None
    chosen = [p for p in data["prescriptions"].values() if p["status"] == "chosen"]
    assert sum(p["revenue_effect"] for p in chosen) == pytest.approx(
        story["recovery"]["decline_part"] + story["recovery"]["beyond_part"], abs=0.05)
