"""Prescribe: the rules table fires on the findings it names and on nothing else; targets start from the
clinic's own baseline plus the method's step; the consultant's judgement is applied and marked."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd

import matplotlib
import pytest

matplotlib.use("Agg")

from playbook import load_clinic, prescribe as prescribe_module, thresholds  # noqa: E402
from playbook.bottleneck import rank  # noqa: E402
from playbook.clinic import clinic_from_tables  # noqa: E402
from playbook.config import SAMPLES_DIR  # noqa: E402
from playbook.prescribe import CHOSEN, LETTERS, REJECTED, WATCH, prescribe, rulebook  # noqa: E402
from playbook.results import RED, YELLOW, Finding, Segment, Stake, Window  # noqa: E402
from playbook.schema import TABLES  # noqa: E402
from playbook.weekly import WEEKLY_METRICS  # noqa: E402


def _flag(metric, severity=RED, subject=None, threshold="first_visit_conversion_review", at_stake=100_000.0):
    """A finding of ``metric`` about ``subject``, in the words of a channel's conversion."""
    return Finding(kind="channel_conversion", metric=metric, value=0.2, threshold=threshold, line=0.8,
                   problem_class="acquisition", severity=severity, gap=0.5, stake=Stake(at_stake, "channel_conversion_gap"),
                   segment=Segment("doctor" if subject and subject.endswith("医生") else "channel", subject)
                   if subject else None, window=Window(dt.date(2025, 7, 1), dt.date(2025, 12, 31)))


# --- the rules table is well formed -----------------------------------------------------------


def test_every_rule_names_a_plan_an_owner_a_deadline_and_a_trackable_kpi():
    book = rulebook()
    defaults = thresholds.DEFAULTS
    for rule in book.rules:
        assert rule.prescription in LETTERS and rule.prescription in book.prescriptions, rule.id
        assert rule.threshold is None or rule.threshold in defaults, rule.id
        for task in rule.tasks:
            assert task.owner in book.departments, rule.id
            assert 1 <= task.weeks <= 26, rule.id
            assert set(re.findall(r"{(\w+)}", task.zh + task.en + (task.metric or ""))) <= {"subject", "line"}, rule.id
            if task.metric:
                assert task.metric.split(":")[0] in WEEKLY_METRICS, (rule.id, task.metric)
                assert task.target in ("step", "relative", "close_gap"), rule.id
                assert task.target != "step" or task.step in defaults, rule.id
            else:
                assert task.target is None, rule.id


def test_rule_ids_are_unique():
    ids = [rule.id for rule in rulebook().rules]
    assert len(ids) == len(set(ids))


# --- rules fire on hand-made findings, and not otherwise ---------------------------------------


def test_a_channel_conversion_finding_calls_for_plan_a_with_the_channel_named():
    fired = prescribe_module._fire(rulebook(), [_flag("first_visit_conversion_recent", subject="抖音")])
    assert [(rule.id, rule.prescription, [f.subject for f in flags]) for rule, flags in fired] == [
        ("channel_conversion", "A", ["抖音"])]


def test_nothing_fires_on_an_unknown_metric_or_on_no_findings():
    assert prescribe_module._fire(rulebook(), [_flag("weather")]) == []
    assert prescribe_module._fire(rulebook(), []) == []


def test_a_cost_share_below_its_range_is_not_treated_as_too_high():
    low = _flag("consumables_share", threshold="consumables_share_low", subject="consumables")
    high = _flag("consumables_share", threshold="consumables_share_high", subject="consumables")
    assert prescribe_module._fire(rulebook(), [low]) == []
    assert [rule.id for rule, _ in prescribe_module._fire(rulebook(), [high])] == ["consumables"]


def test_a_driver_tree_symptom_fires_by_pattern_and_once_per_subject():
    flags = [_flag("ticket_effect_recent", subject="高值项目"), _flag("ticket_effect_period", subject="高值项目")]
    fired = prescribe_module._fire(rulebook(), flags)
    assert [(rule.id, len(hits)) for rule, hits in fired] == [("ticket", 1)]


def test_at_most_per_rule_subjects_strongest_first():
    flags = [_flag("plan_completion", subject=f"{name}医生") for name in "王李张"]
    (rule, hits), = prescribe_module._fire(rulebook(), flags)
    assert [f.subject for f in hits] == ["王医生", "李医生"] and rulebook().per_rule == 2


# --- targets: the clinic's baseline plus the method's step -------------------------------------


@pytest.mark.parametrize(("kind", "metric", "baseline", "line", "expected"), [
    ("step", "arrival_rate:抖音", 0.15, 0.80, 0.18),  # [S0]: Douyin arrival rate 15% -> 18%
    ("relative", "first_visit_conversion:抖音", 0.25, 0.80, 0.30),  # a fifth more
    ("relative", "first_visit_conversion", 0.75, 0.80, 0.90),  # relative steps are not capped by the line
    ("close_gap", "no_show_rate:美团", 0.26, 0.15, 0.205),  # half way down to the 15% line
    ("close_gap", "referral_share", 0.16, 0.30, 0.23),
    ("relative", "no_show_rate", 0.20, 0.15, 0.16),  # lower is better: a fifth less
    ("relative", "return_visits", 100.0, 1.5, 120.0),  # a count: per week, no line in its unit
])
def test_target_rules_known_answers(kind, metric, baseline, line, expected):
    template = prescribe_module.TaskTemplate("z", "e", "medical", 8, metric=metric, target=kind,
                                             step="arrival_rate_step" if kind == "step" else None)
    table = thresholds.resolve({"no_show_rate": line} if "no_show" in metric else {})
    flag_threshold = "no_show_rate" if "no_show" in metric else "first_visit_conversion_review"
    if "referral" in metric:
        table, flag_threshold = thresholds.resolve({"referral_share_act": line}), "referral_share_act"
    elif "first_visit" not in metric and "no_show" not in metric and "arrival" not in metric:
        table = thresholds.resolve({"overdue_doctor_ratio": line})
        flag_threshold = "overdue_doctor_ratio"
    target = prescribe_module._target(template, metric, baseline, _flag("x", threshold=flag_threshold), table)
    assert target == pytest.approx(expected)


def test_a_step_target_never_passes_the_methods_line():
    template = prescribe_module.TaskTemplate("z", "e", "front_desk", 6, metric="no_show_rate", target="step",
                                             step="arrival_rate_step")
    # 16% no-shows, line 15%: a 3-point step would overshoot to 13%; the target stops at the line
    target = prescribe_module._target(template, "no_show_rate", 0.16, _flag("x", threshold="no_show_rate"),
                                      thresholds.resolve())
    assert target == pytest.approx(0.15)


def test_a_whole_already_past_the_line_still_gets_a_better_target_never_a_worse_one():
    """No-shows of one time slot at 26% flagged, the whole clinic at 14% under the 15% line."""
    template = prescribe_module.TaskTemplate("z", "e", "front_desk", 6, metric="no_show_rate", target="close_gap")
    target = prescribe_module._target(template, "no_show_rate", 0.14, _flag("x", threshold="no_show_rate"),
                                      thresholds.resolve())
    assert target == pytest.approx(0.14 * 0.8)


def test_no_baseline_makes_a_milestone_task_not_a_made_up_target():
    template = prescribe_module.TaskTemplate("z", "e", "front_desk", 6, metric="no_show_rate", target="close_gap")
    assert prescribe_module._target(template, "no_show_rate", None, _flag("x"), thresholds.resolve()) is None


# --- the general sample: prescriptions that match its planted problems --------------------------


@pytest.fixture(scope="module")
def general():
    return load_clinic(SAMPLES_DIR / "general_clinic")


@pytest.fixture(scope="module")
def plan(general):
    return prescribe(general)


def test_the_general_sample_gets_the_plans_its_planted_problems_call_for(plan):
    chosen = set(plan.chosen["prescription"])
    # C is not raised: its findings (王医生's overdue patients, his unfinished plans) count in his departure (E)
    assert {"A", "B", "D", "E"} <= chosen
    tasks = plan.tasks.set_index("task_id")
    assert tasks.loc["overdue_returns.1@王医生", "prescription"] == "E"
    # 抖音 conversion 0.60 -> 0.21 from 2025-07: plan A reworks the channel, measured on its conversion
    assert tasks.loc["channel_conversion.1@抖音", "prescription"] == "A"
    assert tasks.loc["channel_conversion.1@抖音", "metric"] == "first_visit_conversion:抖音"
    # the key implant doctor left on 2025-08-31: plan E hands the patients over
    assert "doctor_departure.1@王医生" in tasks.index
    # 美团 no-shows 0.10 -> 0.26: the front desk confirms appointments
    assert tasks.loc["channel_no_shows.1@美团", "owner_department"] == "前台"
    # referral share 0.28 -> 0.16 and consumables at 9% of revenue
    assert "referral.1" in tasks.index and "consumables.1" in tasks.index


def test_targets_start_from_the_clinics_own_last_13_weeks(general, plan):
    """The 抖音 conversion baseline, recomputed by the contract's own definition (playbook.kpis)."""
    from playbook.kpis import new_patient_table

    task = plan.tasks.set_index("task_id").loc["channel_conversion.1@抖音"]
    end = general.config.period.end
    # 13 weeks ending 30 days before the data ends: later patients have not had their 30 days to decide
    last = end - dt.timedelta(days=30)
    new = new_patient_table(general.patients, general.visits, general.charges,
                            start=last - dt.timedelta(weeks=13) + dt.timedelta(days=1), end=last)
    baseline = new.loc[new["source_channel"] == "抖音", "converted"].mean()
    assert task["baseline"] == pytest.approx(baseline)
    assert task["target"] == pytest.approx(baseline * 1.2)
    assert 0.1 < baseline < 0.4  # the planted collapse, not the 0.60 of before
    assert task["deadline"] == task["start"] + dt.timedelta(weeks=8)
    assert task["start"].weekday() == 0 and task["start"] > end


def test_every_chosen_task_is_smart(plan):
    tasks = plan.tasks
    assert len(tasks) >= 5
    assert tasks["owner_department"].str.len().gt(0).all()
    assert (tasks["deadline"] > tasks["start"]).all()
    measured = tasks[tasks["metric"].notna()]
    assert len(measured) >= 4 and measured["target"].notna().all() and measured["baseline"].notna().all()
    assert set(tasks["prescription"]) == set(plan.chosen["prescription"])


@pytest.mark.parametrize("sample", ["general_clinic", "children_clinic"])
def test_every_target_is_better_than_its_baseline(sample):
    plan = prescribe(load_clinic(SAMPLES_DIR / sample))
    measured = plan.tasks[plan.tasks["target"].notna()]
    assert len(measured)
    for task in measured.itertuples():
        up = 1 if WEEKLY_METRICS[task.metric.split(":")[0]].higher_is_better else -1
        assert (task.target - task.baseline) * up > 0, task.task_id


def test_the_plan_reads_in_both_languages_without_nan(plan):
    for lang in ("zh", "en"):
        for frame in (plan.prescriptions_for(lang), plan.tasks_for(lang)):
            text = frame.to_string()
            assert "nan" not in text.lower() and "None" not in text
        assert "NaN" not in plan.finding(lang)
    assert not re.search(r"[\u4e00-\u9fff]", plan.prescriptions_for("en").iloc[:, [0, 2]].to_string())


def test_metrics_for_kpis_json(plan):
    metrics = plan.metrics()
    assert metrics["kpis"]["prescriptions_chosen"] == len(plan.chosen)
    assert {t["task_id"] for t in metrics["tasks"]} == set(plan.tasks["task_id"])


# --- the consultant's judgement ---------------------------------------------------------------


def _with_config(clinic, **update):
    config = clinic.config.model_validate({**clinic.config.model_dump(), **update})
    return clinic_from_tables(config, {name: clinic.table(name) for name in TABLES if clinic.has(name)})


def test_the_consultants_decisions_are_applied_and_marked(general):
    clinic = _with_config(general, prescriptions={"D": {"status": "rejected", "reason": "本季度不调整排班"}},
                          tasks={"channel_conversion.1@抖音": {"owner": "张经理", "target": 0.35},
                                 "referral.2": {"drop": True},
                                 "own.1": {"prescription": "B", "task": "每月开一次患者座谈会",
                                           "owner_department": "客服部"},
                                 "gone.1": {"owner": "李四"}},
                          interview_findings=[{"who": "前台", "text": "美团团购客多为比价而来"}])
    plan = prescribe(clinic)
    plans = plan.prescriptions.set_index("prescription")
    assert plans.loc["D", "status"] == REJECTED and plans.loc["D", "by_consultant"]
    assert "D" not in set(plan.tasks["prescription"])
    tasks = plan.tasks.set_index("task_id")
    assert tasks.loc["channel_conversion.1@抖音", "target"] == 0.35
    assert tasks.loc["channel_conversion.1@抖音", "changed"] == ("owner", "target")
    assert "referral.2" not in tasks.index
    assert tasks.loc["own.1", "changed"] == ("added",) and tasks.loc["own.1", "prescription"] == "B"
    table = plan.tasks_for("zh", ids=True).set_index("任务编号")
    assert table.loc["channel_conversion.1@抖音", "顾问调整"] == "负责人、目标"
    assert "张经理" in table.loc["channel_conversion.1@抖音", "负责"]
    assert "35.0%" in table.loc["channel_conversion.1@抖音", "基线（最近13周）→目标"]
    assert any("gone.1" in note for note in plan.notes)
    assert plan.interviews["text"].tolist() == ["美团团购客多为比价而来"]
    assert "顾问决定" in plan.prescriptions_for("zh").set_index("处方").loc["D 运营效率与成本控制", "决定"]


def test_yellow_only_plans_are_watched_and_no_findings_mean_no_plan(general):
    plan = prescribe(general, ranking=rank([_flag("plan_completion", severity=YELLOW, subject="王医生")]))
    assert plan.prescriptions["status"].tolist() == [WATCH] and plan.tasks.empty
    empty = prescribe(general, ranking=rank([]))
    assert empty.prescriptions.empty and empty.tasks.empty
    assert "不开处方" in empty.finding("zh") and "nothing that needs action" in empty.finding("en")


def test_a_plan_chosen_by_the_consultant_without_a_red_finding_is_carried_out(general):
    clinic = _with_config(general, prescriptions={"C": {"status": "chosen"}})
    plan = prescribe(clinic, ranking=rank([_flag("plan_completion", severity=YELLOW, subject="王医生")]))
    assert plan.prescriptions.set_index("prescription").loc["C", "status"] == CHOSEN
    assert plan.tasks["task_id"].tolist() == ["plan_completion.1@王医生"]


# --- plans an owner can hand out (issue 14) ------------------------------------------------------


def test_no_task_goes_to_a_doctor_who_has_left(general, plan):
    from playbook.diagnosis import diagnose
    from playbook.story import departed_doctors

    departed = departed_doctors(diagnose(general).ranking.flags)
    assert departed == {"王医生"}  # planted: the implant chief leaves on 2025-08-31
    book = {f"{rule.id}.{n}": template for rule in rulebook().rules for n, template in enumerate(rule.tasks, start=1)}
    for task in plan.tasks.itertuples():
        template = book.get(task.task_id.split("@")[0])
        if template is not None and template.by_subject:
            assert task.finding.subject not in departed, task.task_id
    assert not plan.tasks["task"].str.startswith("王医生").any()
    assert [doctor for _, doctor in plan.skipped] == ["王医生"]
    assert "王医生已离开" in plan.skipped_note("zh") and "{subject}" not in plan.skipped[0][0]


@pytest.mark.parametrize(("metric", "baseline", "target", "zh", "en"), [
    ("return_visits", 129.15, 154.98, "每周129 → 155人次", "129 → 155 a week"),
    ("new_patients:转介绍", 5.82, 6.98, "每周5.8 → 7.0人", "5.8 → 7.0 a week"),
    ("revenue", 80_000.0, 96_000.0, "每周8.0万元 → 9.6万元", "¥80,000 → ¥96,000 a week"),
    ("average_ticket", 1932.9, 2319.5, "1,933元 → 2,320元", "¥1,933 → ¥2,320"),
    ("first_visit_conversion:抖音", 0.1966, 0.2359, "19.7% → 23.6%", "19.7% → 23.6%"),
    (None, None, None, "按期完成", "done by the deadline"),
])
def test_every_target_states_its_unit_and_period(metric, baseline, target, zh, en):
    assert prescribe_module.target_text(metric, baseline, target, "zh") == zh
    assert prescribe_module.target_text(metric, baseline, target, "en") == en


def test_tasks_that_share_a_kpi_share_one_target(plan):
    measured = plan.tasks[plan.tasks["metric"].notna()]
    shared = measured.groupby("metric").filter(lambda g: len(g) > 1)
    assert set(shared["metric"]) >= {"return_visits", "first_visit_conversion:抖音"}
    assert (shared.groupby("metric")[["baseline", "target"]].nunique() == 1).all().all()


def test_a_target_short_of_the_line_says_why(plan):
    note = plan.targets_note("A", "zh")
    assert "初诊成交率 · 抖音目标23.6%，方法的线为80.0%" in note and "提高20%" in note
    assert "方法的线为15.0%" in plan.targets_note("B", "zh") and "差距的50%" in plan.targets_note("B", "zh")
    assert "Targets short of the method's line" in plan.targets_note("A", "en")


@pytest.mark.parametrize("sample", ["general_clinic", "children_clinic"])
def test_the_chosen_plans_effects_add_up_to_the_recovery_and_never_recover_more_than_the_fall(sample):
    from playbook.diagnosis import diagnose

    clinic = load_clinic(SAMPLES_DIR / sample)
    plan, story = prescribe(clinic), diagnose(clinic).story
    metrics = plan.metrics()
    recovery = metrics["story"]["recovery"]
    chosen = [p for p in metrics["prescriptions"].values() if p["status"] == CHOSEN]
    assert sum(p["revenue_effect"] for p in chosen) == pytest.approx(
        recovery["decline_part"] + recovery["beyond_part"], abs=0.05)
    assert recovery["decline_part"] <= story.decline + 0.01
    for p in metrics["prescriptions"].values():
        assert p["revenue_effect"] == pytest.approx(p["decline_effect"] + p["beyond_effect"], abs=0.02)
    # a cost saving is profit, never revenue
    costs = plan.effects[plan.effects["key"].str.endswith("@consumables")]
    assert (costs["revenue"] == 0).all()
    if sample == "children_clinic":  # revenue rose: nothing to recover, all beyond
        assert recovery["decline_part"] == 0 and recovery["beyond_part"] > 0


def test_the_effect_follows_how_far_the_target_closes_the_findings_gap(general):
    """A channel's conversion at 20% against the 80% line; the task's target 26% from a 20% baseline closes a
    tenth of the gap, so a tenth of the ¥1m at stake comes back, first as the ¥40k of the fall it explains."""
    flag = Finding(kind="channel_conversion", metric="first_visit_conversion_recent", value=0.2,
                   threshold="first_visit_conversion_review", line=0.8, problem_class="acquisition", severity=RED,
                   gap=0.75, role="cause", segment=Segment("channel", "抖音"),
                   stake=Stake(1_000_000.0, "driver_tree", decline=40_000.0, beyond=960_000.0))
    rule = next(r for r in rulebook().rules if r.id == "channel_conversion")
    tasks = pd.DataFrame([{"prescription": "A", "task_id": "t", "metric": "first_visit_conversion:抖音",
                           "baseline": 0.20, "target": 0.26, "finding": flag}])
    plans = pd.DataFrame({"prescription": ["A"], "status": [CHOSEN]})
    effects = prescribe_module._effects([(rule, [flag])], lambda r, f: r.prescription, plans, tasks, 0.5)
    row = effects.iloc[0]
    assert row["share"] == pytest.approx(0.1)
    assert (row["revenue"], row["decline"], row["beyond"]) == pytest.approx((100_000.0, 40_000.0, 60_000.0))


def test_tasks_start_after_the_report_date_so_no_deadline_is_past(general, monkeypatch):
    report_day = dt.date(2026, 12, 2)  # a Wednesday, a year after the period ends
    monkeypatch.setattr(type(general.config), "report_day", property(lambda self: report_day))
    assert general.config.plan_start_day == dt.date(2026, 12, 7)
    tasks = prescribe(general, ranking=None, rules=rulebook()).tasks
    assert (tasks["start"] == dt.date(2026, 12, 7)).all() and (tasks["deadline"] > report_day).all()
    early = general.config.model_copy(update={"plan_start": dt.date(2026, 1, 5)})
    assert early.plan_start_day == dt.date(2026, 1, 5)  # the consultant's plan_start wins
