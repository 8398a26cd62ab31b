"""Known-answer tests of the profit view (playbook/profit.py), worked by hand.

Period 2024-01-15..2024-04-30. Months inside it (their first day in the period): Feb, Mar, Apr; January
starts before the period, so its costs are left out even though some of its charges count as revenue.

month    revenue          人工     房租    营销   耗材   加工费  库存 (stock)  员工团建 (other)
2024-01  4,000 (on 20th)  9,999    9,999   —      —      —       —            —
2024-02  20,000           8,000    3,000   1,000  1,200  1,400   900          —
2024-03  20,000 − 1,000   8,000    3,000   1,000  1,100  1,300   800          500
2024-04  21,000           8,000    3,000   —      1,300  1,500   —            —
revenue of the period: 4,000 + 20,000 + 19,000 + 21,000 = 64,000
costs of the months inside (stock left out): Feb 14,600; Mar 14,900; Apr 13,800 = 43,300
operating margin = (64,000 − 43,300) / 64,000 = 0.3234375
monthly margin: Feb (20,000 − 14,600) / 20,000 = 0.27; Apr (21,000 − 13,800) / 21,000 = 0.342857
labour share = 24,000 / 60,000 = 0.4 (the revenue of the months it is recorded in); marketing 2,000 / 39,000
break-even: variable (耗材 + 加工费) = 7,800 / 60,000 = 0.13 of revenue; fixed = (24,000 + 9,000 + 2,000 +
500) / 3 = 11,833.33 a month; break-even revenue = 11,833.33 / 0.87 = 13,601.53 a month
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from playbook import profit
from playbook.results import Unavailable

START, END = dt.date(2024, 1, 15), dt.date(2024, 4, 30)


def _frame(rows, columns, date, amount):
    frame = pd.DataFrame(rows, columns=columns)
    frame[date] = pd.to_datetime(frame[date], format="ISO8601")
    frame[amount] = frame[amount].astype(float)
    return frame


COSTS = _frame([
    ("2024-01-01", "人工", 9999), ("2024-01-01", "房租", 9999),
    ("2024-02-01", "人工工资", 8000), ("2024-02-01", "房租", 3000), ("2024-02-01", "营销推广", 1000),
    ("2024-02-01", "耗材", 1200), ("2024-02-01", "加工费", 1400), ("2024-02-01", "库存", 900),
    ("2024-03-01", "人工工资", 8000), ("2024-03-01", "房租", 3000), ("2024-03-01", "营销推广", 1000),
    ("2024-03-01", "耗材", 1100), ("2024-03-01", "加工费", 1300), ("2024-03-01", "库存", 800),
    ("2024-03-01", "员工团建", 500),
    ("2024-04-01", "人工工资", 8000), ("2024-04-01", "房租", 3000), ("2024-04-01", "耗材", 1300),
    ("2024-04-01", "加工费", 1500),
], ["month", "category", "amount"], "month", "amount")
CHARGES = _frame([("2024-01-10", 7777), ("2024-01-20", 4000), ("2024-02-10", 20000), ("2024-03-05", 20000),
                  ("2024-03-06", -1000), ("2024-04-30 18:00", 21000), ("2024-05-01", 5555)],
                 ["paid_at", "amount_paid"], "paid_at", "amount_paid")


@pytest.fixture(scope="module")
def view():
    return profit.profit_view(COSTS, CHARGES, start=START, end=END)


def test_operating_margin_counts_every_cost_but_the_stock(view):
    assert view.revenue == pytest.approx(64_000)
    assert view.operating_margin == pytest.approx((64_000 - 43_300) / 64_000)
    assert view.metrics()["kpis"]["operating_margin"] == pytest.approx(0.3234375, abs=1e-6)


def test_only_months_whose_first_day_is_in_the_period(view):
    assert list(view.monthly.index.strftime("%Y-%m")) == ["2024-02", "2024-03", "2024-04"]
    assert view.months_in_period == view.months_with_costs == 3 and view.complete
    assert view.monthly.loc["2024-02-01", "margin"] == pytest.approx(0.27)
    assert view.monthly.loc["2024-04-01", "margin"] == pytest.approx(7_200 / 21_000)


def test_each_category_over_the_revenue_of_its_months(view):
    kpis = view.metrics()["kpis"]
    assert kpis["labour_share"] == pytest.approx(0.4)
    assert kpis["rent_share"] == pytest.approx(0.15)
    assert kpis["marketing_share"] == pytest.approx(2_000 / 39_000, abs=1e-6)
    assert kpis["utilities_share"] is None  # the table has none: null, and the sentence asks for it
    assert view.table.loc["other", "amount"] == 500  # a category the playbook does not know is still a cost
    assert "水电物业" in view.finding("zh") and "utilities" in view.finding("en")


def test_break_even_revenue_takes_materials_as_variable(view):
    fixed = (24_000 + 9_000 + 2_000 + 500) / 3
    assert view.break_even_per_month == pytest.approx(fixed / (1 - 7_800 / 60_000))
    assert "保本" in view.title("zh")


def test_inventory_is_shown_as_a_stock_never_a_cost(view):
    table = view.table_for("zh")
    assert table.loc[table["类别"] == "库存", "性质"].item().startswith("库存")
    assert "stock left out" in view.finding("en")


def test_a_month_without_costs_says_the_margin_is_overstated():
    partial = COSTS[COSTS["month"] != "2024-04-01"]
    result = profit.profit_view(partial, CHARGES, start=START, end=END)
    assert not result.complete and result.months_with_costs == 2
    assert "1个月没有成本记录" in result.finding("zh")
    assert "overstated" in result.finding("en")


def test_metrics_are_strict_json(view):
    json.dumps(view.metrics(), allow_nan=False)


def test_without_costs_in_the_period_it_says_what_to_add():
    outside = COSTS[COSTS["month"] < "2024-02-01"]
    result = profit.profit_view(outside, CHARGES, start=dt.date(2024, 2, 1), end=END)
    assert isinstance(result, Unavailable)
    assert "人工" in result.finding("zh")


def test_categories_by_keyword():
    names = pd.Series(["员工工资", "社保", "场地租金", "抖音广告投放", "水电费", "物业费", "耗材库存", "义齿加工", "开业庆典"])
    assert list(profit.classify_costs(names)) == ["labour", "labour", "rent", "marketing", "utilities", "utilities",
                                                  "inventory", "lab", "other"]
