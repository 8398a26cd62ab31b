"""Known-answer tests of the loss-leader break-even (method.md [S3]), worked out by hand.

profit(q) = N·p·(1 − k) − N·r·c − F + N·r·q·m,  q* = (N·r·c + F − N·p·(1 − k)) / (N·r·m),
N*(q) = F / (p·(1 − k) − r·c + r·q·m).

Case S3 (the source case, with the chapter's assumptions): N 3,560, p 9.9, k 1, r 0.8, c 60, F 32,000, m 10,000.
    N·p·(1 − k) = 0;  N·r = 2,848;  N·r·c = 170,880
    q* = (170,880 + 32,000 − 0) / (2,848 × 10,000) = 202,880 / 28,480,000 = 0.0071235955…
    at q = 1%: per card 9.9 × 0 − 0.8 × 60 + 0.8 × 0.01 × 10,000 = −48 + 80 = 32 yuan
               N* = 32,000 / 32 = 1,000 cards;  profit = 3,560 × 32 − 32,000 = 81,920

Case B (the clinic keeps the price): N 1,000, p 10, k 0, r 0.5, c 50, F 20,000, m 5,000.
    N·p = 10,000;  N·r = 500;  N·r·c = 25,000
    q* = (25,000 + 20,000 − 10,000) / (500 × 5,000) = 35,000 / 2,500,000 = 0.014
    at q = 2%:   per card 10 − 25 + 0.5 × 0.02 × 5,000 = 35;  N* = 20,000 / 35 = 571.4 → 572 cards;
                 profit = 1,000 × 35 − 20,000 = 15,000
    at q = 1%:   per card 10 − 25 + 25 = 10;  N* = 2,000;  profit = 10,000 − 20,000 = −10,000
    at q = 0.5%: per card 10 − 25 + 12.5 = −2.5 < 0: no number of cards breaks even

Case NEVER: N 100, p 10, k 0.5, r 1, c 100, F 100,000, m 500.
    base = 100 × 10 × 0.5 − 100 × 100 − 100,000 = −109,500;  slope N·r·m = 50,000;  q* = 2.19 > 1
    profit(100%) = −109,500 + 50,000 = −59,500
Case ALWAYS: N 100, p 99, k 0, r 0.8, c 60, F 0, m 1,000.
    base = 9,900 − 4,800 = 5,100 > 0;  q* = −5,100 / 80,000 = −0.06375 ≤ 0: pays with no conversion

History (hand-made clinic below): campaign K1 (抖音, 2024-03-01..03-31, 9.9-yuan card, cost 45, 100 sold,
spend 5,000) has 40 campaign patients D01..D40, all with 90 days in the data; D01, D02, D03 paid 种植牙
10,000 on day 0, 10 and 90 (the last day of the window): 3 of 40 = 0.075. Not counted: D04 paid 种植牙 on day
91, D05 paid a refund (−500) for 种植牙, M01 is a 美团 patient in March, D41 first came 2024-04-05 (after
K1). Campaign K2 (抖音, 2024-12-01..12-10, 88 yuan, not a loss-leader) has 2 patients whose 90 days end
after the data end (2024-12-31): counted as patients, not judged.
    Jeffreys posterior Beta(3.5, 37.5);  value per deal 10,000;  margin 10,000 × 0.5 = 5,000
    K1 as planned: r = 40 / 100 = 0.4;  q* = (100 × 0.4 × 45 + 5,000 − 100 × 9.9) / (40 × 5,000)
                   = (1,800 + 5,000 − 990) / 200,000 = 0.02905
                   at q = 0.075: per card 9.9 − 18 + 0.4 × 0.075 × 5,000 = 141.9;  N* = 5,000 / 141.9
                   = 35.2 → 36 cards;  profit = 100 × 141.9 − 5,000 = 9,190
"""
from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta
from statsmodels.stats.proportion import proportion_confint

from playbook import breakeven as be
from playbook.cli import main
from playbook.clinic import clinic_from_tables

S3 = dict(cards=3560, card_price=9.9, seller_share=1, redemption=0.8, delivery_cost=60, fixed_cost=32_000, margin=10_000)
B = dict(cards=1000, card_price=10, seller_share=0, redemption=0.5, delivery_cost=50, fixed_cost=20_000, margin=5_000)
NEVER = dict(cards=100, card_price=10, seller_share=0.5, redemption=1, delivery_cost=100, fixed_cost=100_000, margin=500)
ALWAYS = dict(cards=100, card_price=99, seller_share=0, redemption=0.8, delivery_cost=60, fixed_cost=0, margin=1_000)


# ---------------------------------------------------------------------------------------------------
# The model at hand-computed points


def test_source_case_breakeven_conversion_cards_and_profit():
    result = be.breakeven(be.Campaign(**S3), conversion=0.01)
    assert result.status == be.REACHABLE
    assert result.breakeven_conversion == pytest.approx(202_880 / 28_480_000)
    assert result.breakeven_cards == 1000
    assert result.profit == pytest.approx(81_920)
    assert result.campaign.redeemed * 0.01 == pytest.approx(28.48)  # "1% is about 30 big cases"


@pytest.mark.parametrize("q, cards, exact, profit", [
    (0.02, 572, 20_000 / 35, 15_000),
    (0.01, 2000, 2000, -10_000),
])
def test_cards_needed_and_profit_at_a_conversion(q, cards, exact, profit):
    campaign = be.Campaign(**B)
    assert campaign.breakeven_conversion() == pytest.approx(0.014)
    assert campaign.breakeven_cards(q) == pytest.approx(exact)
    result = be.breakeven(campaign, conversion=q)
    assert result.breakeven_cards == cards
    assert result.profit == pytest.approx(profit)
    # the whole number of cards is the smallest that does not lose
    assert campaign.profit(q, cards=cards) >= -1e-6 and campaign.profit(q, cards=cards - 1) < 0


def test_no_number_of_cards_pays_when_a_card_loses_money():
    result = be.breakeven(be.Campaign(**B), conversion=0.005)
    assert result.campaign.contribution_per_card(0.005) == pytest.approx(-2.5)
    assert result.breakeven_cards is None
    assert "卖多少张都不能回本" in result.finding("zh") and "no number of cards breaks even" in result.finding("en")


def test_profit_is_zero_at_the_breakeven_conversion():
    campaign = be.Campaign(**B)
    assert campaign.profit(campaign.breakeven_conversion()) == pytest.approx(0, abs=1e-6)
    assert campaign.profit(0.014, cards=571.4) < 0 < campaign.profit(0.02, cards=572)


def test_a_campaign_that_can_never_break_even_says_so():
    result = be.breakeven(be.Campaign(**NEVER), conversion=0.05)
    assert result.campaign.breakeven_conversion() == pytest.approx(2.19)
    assert result.status == be.NEVER and result.breakeven_conversion is None
    assert result.campaign.profit(1.0) == pytest.approx(-59_500)
    for lang in ("zh", "en"):
        text = result.finding(lang)
        assert "219" not in text and "inf" not in text.lower() and "nan" not in text.lower()
    assert "无法回本" in result.finding("zh") and "never break even" in result.finding("en")


def test_a_campaign_that_pays_without_conversion_says_so():
    result = be.breakeven(be.Campaign(**ALWAYS))
    assert result.campaign.breakeven_conversion() == pytest.approx(-0.06375)
    assert result.status == be.ALWAYS and result.breakeven_conversion == 0.0
    assert "即使没有人成交大项目也能回本" in result.finding("zh") and "-6" not in result.finding("zh")


@pytest.mark.parametrize("changes, status", [
    (dict(margin=0), be.NEVER),  # a high-value case earns nothing: conversion cannot help
    (dict(redemption=0), be.NEVER),  # no one comes: F is never covered
    (dict(redemption=0, fixed_cost=0, card_price=1), be.ALWAYS),  # card income, no cost at all
])
def test_conversion_that_cannot_move_profit(changes, status):
    result = be.breakeven(be.Campaign(**{**B, **changes}), conversion=0.5)
    assert result.status == status
    assert result.campaign.breakeven_conversion() is None


@settings(max_examples=300, deadline=None)
@given(cards=st.integers(1, 100_000), card_price=st.floats(0, 500), seller_share=st.floats(0, 1),
       redemption=st.floats(0.01, 1), delivery_cost=st.floats(0, 1_000), fixed_cost=st.floats(0, 1e6),
       margin=st.floats(1, 1e5), q=st.floats(0, 1))
def test_profit_is_zero_at_q_star_and_at_n_star(cards, card_price, seller_share, redemption, delivery_cost, fixed_cost,
                                                margin, q):
    campaign = be.Campaign(cards=cards, card_price=card_price, seller_share=seller_share, redemption=redemption,
                           delivery_cost=delivery_cost, fixed_cost=fixed_cost, margin=margin)
    scale = cards * (card_price + delivery_cost + margin) + fixed_cost
    status = campaign.status()
    if status == be.REACHABLE:
        assert campaign.profit(campaign.breakeven_conversion()) == pytest.approx(0, abs=1e-9 * (scale + 1))
    elif status == be.ALWAYS:
        assert campaign.profit(0) >= -1e-9 * (scale + 1)
    else:
        assert campaign.profit(1) < 0
    n_star = campaign.breakeven_cards(q)
    if n_star is not None and n_star > 0:
        # the terms of profit grow with N*, and so does their rounding
        n_scale = n_star * (card_price + delivery_cost + margin) + fixed_cost
        assert campaign.profit(q, cards=n_star) == pytest.approx(0, abs=1e-9 * (n_scale + 1))


def test_sensitivity_grid_holds_the_campaign_and_its_sign_flips_at_the_line():
    result = be.breakeven(be.Campaign(**S3), conversion=0.01)
    grid = result.grid
    assert grid.shape == (9, 8) and grid.index[-1] == 0 and grid.index.is_monotonic_decreasing
    assert grid.loc[0.01, 1000.0] == pytest.approx(0, abs=1e-6)  # N* = 1,000 at 1%
    assert grid.loc[0.01, 2000.0] > 0 > grid.loc[0.005, 2000.0]  # q* = 0.71% lies between
    assert (grid.loc[0.0] < 0).all()  # the sellers keep the card price: no conversion, a loss


def test_bad_inputs_name_the_option_and_the_fix():
    with pytest.raises(be.CampaignInputError) as info:
        be.Campaign(**{**S3, "redemption": 80})
    assert "--redemption" in str(info.value) and "0.8" in str(info.value) and info.value.exit_code == 2


# ---------------------------------------------------------------------------------------------------
# The command line


ARGS = ["breakeven", "--cards", "3560", "--card-price", "9.9", "--seller-share", "1", "--redemption", "0.8",
        "--delivery-cost", "60", "--fixed-cost", "32000", "--margin", "10000"]


def _run(*args):
    return CliRunner().invoke(main, list(args))


def test_cli_json_has_the_breakeven_conversion_and_with_a_conversion_the_cards_and_profit():
    result = _run(*ARGS, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["breakeven_conversion"] == pytest.approx(0.007124, abs=1e-6)
    assert "breakeven_cards" not in data and "profit" not in data
    data = json.loads(_run(*ARGS, "--conversion", "0.01", "--json").stdout)
    assert data["breakeven_cards"] == 1000 and data["profit"] == pytest.approx(81_920)


def test_cli_text_is_a_few_lines_with_the_answers():
    result = _run(*ARGS, "--conversion", "0.01")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) <= 4
    assert "0.71%" in result.stdout and "1,000 cards" in result.stdout and "¥81,920" in result.stdout


def test_cli_never_prints_a_negative_or_infinite_breakeven():
    never = ["breakeven", "--cards", "100", "--card-price", "10", "--seller-share", "0.5", "--redemption", "1",
             "--delivery-cost", "100", "--fixed-cost", "100000", "--margin", "500"]
    result = _run(*never, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["status"] == "never" and data["breakeven_conversion"] is None
    text = _run(*never).stdout
    assert "none" in text and "inf" not in text and "2.19" not in text and "219" not in text
    always = ["breakeven", "--cards", "100", "--card-price", "99", "--seller-share", "0", "--redemption", "0.8",
              "--delivery-cost", "60", "--fixed-cost", "0", "--margin", "1000"]
    data = json.loads(_run(*always, "--json").stdout)
    assert data["status"] == "always" and data["breakeven_conversion"] == 0.0


@pytest.mark.parametrize("option, value", [
    ("--redemption", "1.5"), ("--redemption", "-0.1"), ("--redemption", "80"), ("--seller-share", "1.2"),
    ("--seller-share", "-0.5"), ("--margin", "-1"), ("--delivery-cost", "-5"), ("--fixed-cost", "-100"),
    ("--card-price", "-9.9"), ("--cards", "0"), ("--cards", "-10"), ("--conversion", "1.5"), ("--conversion", "-0.01"),
    ("--margin", "nan"), ("--fixed-cost", "inf"),
])
def test_cli_nonsense_input_exits_2_naming_the_option_and_the_fix(option, value):
    args = list(ARGS)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    result = _run(*args)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)  # handled: no traceback
    assert option in result.stderr and "fix:" in result.stderr and "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------------
# The clinic's history


def _day(offset: int, start: str = "2024-03-01") -> pd.Timestamp:
    return pd.Timestamp(start) + pd.Timedelta(days=offset)


def _history_clinic(campaigns: bool = True):
    patients, visits, charges = [], [], []

    def patient(pid, channel, first):
        patients.append({"patient_id": pid, "source_channel": channel})
        visits.append({"visit_id": f"V{len(visits) + 1}", "patient_id": pid, "scheduled_at": first + pd.Timedelta(hours=10),
                       "status": "arrived"})

    def pay(pid, day, item, amount):
        charges.append({"patient_id": pid, "paid_at": day + pd.Timedelta(hours=15), "item": item, "amount_paid": amount})

    for i in range(1, 41):
        pid = f"D{i:02d}"
        first = _day((i - 1) % 31)
        patient(pid, "抖音", first)
        pay(pid, first, "超声波洁牙", 9.9)
        extra = {1: (0, "种植牙", 10_000), 2: (10, "种植牙", 10_000), 3: (90, "种植牙", 10_000), 4: (91, "种植牙", 10_000),
                 5: (20, "种植牙", -500)}.get(i)
        if extra:
            pay(pid, first + pd.Timedelta(days=extra[0]), extra[1], extra[2])
    patient("M01", "美团", _day(5))
    pay("M01", _day(6), "种植牙", 12_000)
    patient("D41", "抖音", _day(35))
    pay("D41", _day(36), "种植牙", 12_000)
    for pid in ("E01", "E02"):
        patient(pid, "抖音", pd.Timestamp("2024-12-05"))
        pay(pid, pd.Timestamp("2024-12-06"), "种植牙", 8_000)
    visits.append({"visit_id": "VLAST", "patient_id": "D10", "scheduled_at": pd.Timestamp("2024-12-31 10:00"),
                   "status": "arrived"})
    tables = {"patients": pd.DataFrame(patients), "visits": pd.DataFrame(visits), "charges": pd.DataFrame(charges)}
    if campaigns:
        tables["campaigns"] = pd.DataFrame({
            "campaign_id": ["K1", "K2"], "name": ["9.9元洁牙卡", "年终团购"], "channel": ["抖音", "抖音"],
            "start": pd.to_datetime(["2024-03-01", "2024-12-01"]), "end": pd.to_datetime(["2024-03-31", "2024-12-10"]),
            "spend": [5_000.0, 3_000.0], "offer_price": [9.9, 88.0], "offer_cost": [45.0, 45.0],
            "units_sold": pd.array([100, 30], dtype="Int64")})
    config = {"clinic_id": "hist", "name": "历史门诊", "period": {"start": "2024-01-01", "end": "2024-12-31"}}
    return clinic_from_tables(config, tables)


@pytest.fixture(scope="module")
def history_clinic():
    return _history_clinic()


def _history(clinic, **kwargs):
    return be.campaign_history(clinic.patients, clinic.visits, clinic.charges, clinic.table("campaigns"), **kwargs)


def test_history_counts_3_of_40_campaign_patients_and_its_interval_contains_the_rate(history_clinic):
    h = _history(history_clinic)
    assert (h.successes, h.trials) == (3, 40) and h.rate == pytest.approx(0.075)
    low, high = h.conf_int()
    assert (low, high) == pytest.approx(proportion_confint(3, 40, alpha=0.05, method="wilson"))
    assert low < 0.075 < high
    k1, k2 = h.table.set_index("campaign_id").loc["K1"], h.table.set_index("campaign_id").loc["K2"]
    assert (k1["patients"], k1["judged"], k1["deals"]) == (40, 40, 3)
    assert (k2["patients"], k2["judged"], k2["deals"]) == (2, 0, 0)  # their 90 days end after the data
    assert bool(k1["loss_leader"]) and not bool(k2["loss_leader"])
    assert h.value_per_deal == pytest.approx(10_000)
    assert h.metrics()["kpis"]["campaign_high_value_conversion"] == pytest.approx(0.075)
    assert "40" in h.finding("zh") and "7.5%" in h.finding("en")


def test_clopper_pearson_is_one_keyword_away(history_clinic):
    h = _history(history_clinic, method="beta", alpha=0.1)
    assert h.conf_int() == pytest.approx(proportion_confint(3, 40, alpha=0.1, method="beta"))


def test_chance_of_breaking_even_is_the_beta_posterior_and_falls_as_q_star_rises(history_clinic):
    h = _history(history_clinic)
    assert h.prob_above(0.05) == pytest.approx(beta(3.5, 37.5).sf(0.05))
    easy = be.breakeven(be.Campaign(**{**B, "fixed_cost": 5_000}), history=h)  # lower F: lower q*
    hard = be.breakeven(be.Campaign(**B), history=h)
    assert easy.breakeven_conversion < hard.breakeven_conversion
    assert easy.probability > hard.probability
    assert hard.probability == pytest.approx(beta(3.5, 37.5).sf(0.014))
    assert be.breakeven(be.Campaign(**NEVER), history=h).probability == 0.0
    assert be.breakeven(be.Campaign(**ALWAYS), history=h).probability == 1.0


def test_the_clinics_loss_leader_card_is_checked_on_its_own_history(history_clinic):
    section = be.clinic_breakeven(history_clinic)
    planned = section.planned
    assert planned.campaign.name == "9.9元洁牙卡"
    assert planned.campaign.redemption == pytest.approx(0.4) and planned.campaign.margin == pytest.approx(5_000)
    assert planned.breakeven_conversion == pytest.approx(0.02905)
    assert planned.conversion == pytest.approx(0.075)
    assert planned.breakeven_cards == 36 and planned.profit == pytest.approx(9_190)
    assert planned.probability == pytest.approx(beta(3.5, 37.5).sf(0.02905))
    assert "假设" in planned.finding("zh") and "assuming" in planned.finding("en")
    metrics = section.metrics()
    assert metrics["breakeven"]["planned"]["breakeven_cards"] == 36
    assert metrics["breakeven"]["history"]["campaigns"]["K1"]["deals"] == 3


def test_without_campaigns_the_chapter_says_which_table_it_needs():
    clinic = _history_clinic(campaigns=False)
    h = _history(clinic)
    assert not h.available and "campaigns" in h.finding("en") and "营销活动表" in h.finding("zh")
    section = be.clinic_breakeven(clinic)
    assert not section.planned.available
    assert section.metrics() == {"breakeven": {"history": None, "planned": None},
                                 "kpis": {"campaign_high_value_conversion": None}}


def test_campaigns_whose_channel_no_patient_names_ask_for_one_spelling():
    clinic = _history_clinic()
    clinic.table("campaigns")["channel"] = "抖音本地生活"
    h = _history(clinic)
    assert not h.available and "渠道名称" in h.finding("zh") and "channel names" in h.finding("en")
    assert not be.clinic_breakeven(clinic).planned.available


def test_a_history_without_a_single_deal_still_reads_as_a_sentence():
    clinic = _history_clinic()
    charges = clinic.charges
    clinic.loads["charges"].data = charges[~charges["item"].eq("种植牙") | ~charges["patient_id"].str.startswith("D")]
    h = _history(clinic, campaign_ids=["K1"])
    assert (h.successes, h.trials) == (0, 40) and h.conf_int()[0] == pytest.approx(0, abs=1e-12)
    result = be.breakeven(be.Campaign(**B), history=h)
    assert result.conversion == 0 and result.breakeven_cards is None
    # 0 of 40 is no proof of 0%: Jeffreys' Beta(0.5, 40.5) still leaves q above q* = 1.4% a fair chance
    assert result.probability == pytest.approx(beta(0.5, 40.5).sf(0.014)) and 0.1 < result.probability < 0.5
    for lang in ("zh", "en"):
        assert not re.search(r"nan|inf", result.finding(lang), re.I)


def test_heatmap_draws_losses_red_profits_blue_and_the_breakeven_line():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = be.breakeven(be.Campaign(**S3), conversion=0.01)
    fig, ax = plt.subplots()
    try:
        assert result.plot(ax=ax, lang="en") is ax
        mesh = ax.collections[0]
        colors = mesh.get_facecolors().reshape(*result.grid.shape, 4)  # rows as in the grid: highest q first
        loss, profit = colors[-1, -1], colors[0, -1]  # no conversion at 2N cards; the top conversion
        assert loss[0] > loss[2] and profit[2] > profit[0]
        lines = {line.get_label(): line for line in ax.get_lines()}
        assert "Break-even" in lines and len(lines["Break-even"].get_xdata()) > 10
        assert any("3,560 cards" in label for label in lines)  # the campaign's own point
    finally:
        plt.close(fig)
