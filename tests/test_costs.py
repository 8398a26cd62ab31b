"""Known-answer tests of the cost ratios (playbook/costs.py) against the ranges of [S3], worked by hand.

Hand-worked clinic, period 2024-01-01..2024-02-29 (two months):

month    revenue (charges)              耗材   加工费   库存   房租 (ignored)
2024-01  10,000                         900    750     400    5,000
2024-02  10,500 − 500 refund = 10,000   800    750     (none) 5,000
(a 2023-12 耗材 row of 9,999 and a charge of 50,000 on 2024-03-01 fall outside the period)

consumables 1,700 / 20,000 = 0.085 > 0.07: red (gap 0.015 / 0.07 = 0.214);
            revenue a year 20,000 / 2 × 12 = 120,000, so (0.085 − 0.07) × 120,000 = 1,800 kept a year
lab         1,500 / 20,000 = 0.075, within 7–8%
inventory   400 / 10,000 (January only, the month it is recorded) = 0.04, within 3–5%
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

from playbook import costs, synth, thresholds
from playbook.clinic import clinic_from_tables
from playbook.results import RED, Unavailable

START, END = dt.date(2024, 1, 1), dt.date(2024, 2, 29)
TH = thresholds.resolve()


def _costs(rows):
    frame = pd.DataFrame(rows, columns=["month", "category", "amount"])
    frame["month"] = pd.to_datetime(frame["month"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def _charges(rows):
    frame = pd.DataFrame(rows, columns=["paid_at", "amount_paid"])
    frame["paid_at"] = pd.to_datetime(frame["paid_at"], format="ISO8601")
    frame["amount_paid"] = frame["amount_paid"].astype(float)
    return frame


COSTS = _costs([
    ("2023-12-01", "耗材", 9999),
    ("2024-01-01", "耗材", 900), ("2024-01-01", "加工费", 750), ("2024-01-01", "库存", 400), ("2024-01-01", "房租", 5000),
    ("2024-02-15", "耗材", 800), ("2024-02-01", "加工费", 750), ("2024-02-01", "房租", 5000),
])
CHARGES = _charges([("2024-01-10 10:00", 10_000), ("2024-02-03", 10_500), ("2024-02-20", -500),
                    ("2024-03-01", 50_000)])


@pytest.fixture()
def ratios():
    return costs.cost_ratios(COSTS, CHARGES, start=START, end=END, thresholds=TH)


def test_shares_of_revenue_in_the_months_recorded(ratios):
    t = ratios.table
    assert t.loc["consumables", "share"] == pytest.approx(0.085)
    assert t.loc["lab", "share"] == pytest.approx(0.075)
    assert t.loc["inventory", "share"] == pytest.approx(0.04)
    assert t.loc["inventory", "months"] == 1
    assert list(t["status"]) == ["above", "within", "within"]


def test_consumables_above_the_range_is_flagged_with_the_profit_kept_a_year(ratios):
    [flag] = ratios.flags
    assert (flag.metric, flag.threshold, flag.problem_class) == ("consumables_share", "consumables_share_high", "efficiency")
    assert flag.severity == RED and flag.gap == pytest.approx(0.015 / 0.07)
    assert flag.revenue_at_stake == pytest.approx(1800)
    assert "耗材" in ratios.zh and "5–7%" in ratios.zh and "1,800元" in ratios.zh


def test_metrics_are_json_safe_and_named(ratios):
    m = ratios.metrics()
    assert m["kpis"] == {"consumables_share": 0.085, "lab_share": 0.075, "inventory_share": 0.04,
                         "cost_excess_per_year": 1800.0}
    assert m["costs"]["monthly"]["2024-02"]["inventory"] is None  # not recorded, not zero
    assert m["costs"]["monthly"]["2024-01"]["consumables"] == 0.09
    json.dumps(m, allow_nan=False)


def test_below_the_range_is_a_prompt_to_check_the_records_with_nothing_at_stake():
    low = _costs([("2024-01-01", "加工费", 250), ("2024-02-01", "加工费", 250)])
    result = costs.cost_ratios(low, CHARGES, start=START, end=END, thresholds=TH)
    [flag] = result.flags
    assert flag.threshold == "lab_share_low" and flag.revenue_at_stake == 0
    assert result.table.loc["lab", "share"] == pytest.approx(0.025)
    assert "核对" in flag.sentence("zh")


def test_categories_are_recognised_by_keyword():
    names = pd.Series(["耗材", "耗材库存", "义齿加工费", "材料费", "房租", "Lab fees", "员工工资", "水电费", "开业庆典", None])
    assert list(costs.classify_costs(names)) == ["consumables", "inventory", "lab", "consumables", "rent", "lab",
                                                  "labour", "utilities", "other", None]


def test_a_costs_table_without_these_categories_is_unavailable():
    rent_only = _costs([("2024-01-01", "房租", 5000)])
    result = costs.cost_ratios(rent_only, CHARGES, start=START, end=END, thresholds=TH)
    assert isinstance(result, Unavailable) and "耗材" in result.zh


def test_a_month_without_revenue_is_left_out_not_divided_by_zero():
    charges = _charges([("2024-01-10", 10_000)])  # nothing in February
    result = costs.cost_ratios(COSTS, charges, start=START, end=END, thresholds=TH)
    assert result.table.loc["consumables", "share"] == pytest.approx(0.09)
    assert result.table.loc["consumables", "months"] == 1
    assert not re.search(r"nan|inf", result.zh + result.en)


def _clinic(kind, problems=True, drop=()):
    generated = synth.generate(kind, problems=problems)
    return clinic_from_tables(generated.config, {k: v for k, v in generated.tables.items() if k not in drop})


def test_no_costs_table_names_it():
    section = costs.diagnose(_clinic("children", drop=("costs",)), TH)
    assert not section.ratios.available and section.ratios.needs == ["costs"]
    assert section.ratios.table_for("zh").empty and section.metrics() == {}


def test_general_sample_finds_consumables_at_nine_percent():
    section = costs.diagnose(_clinic("general"), TH)
    [flag] = section.flags()
    assert flag.subject == "consumables" and flag.severity == RED
    assert 0.085 < flag.value < 0.095
    revenue = section.ratios.table.loc["consumables", "revenue"] / 2  # a year of the two-year period
    assert flag.revenue_at_stake == pytest.approx((flag.value - 0.07) * revenue, rel=0.01)


@pytest.mark.parametrize("kind", ["general", "children"])
def test_healthy_twins_and_the_children_sample_are_within_the_ranges(kind):
    for problems in (False, True) if kind == "children" else (False,):
        section = costs.diagnose(_clinic(kind, problems), TH)
        assert section.flags() == []
        assert "合理范围内" in section.ratios.zh
