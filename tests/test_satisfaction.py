"""Satisfaction (playbook/satisfaction.py) [S1]: NPS, online reviews and complaints, known answers; no comment
or review text ever reaches a sentence, a table or kpis.json."""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from playbook import satisfaction, thresholds
from playbook.results import Unavailable

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
SECRET = "我是王小明，电话138****5678，医生态度冷淡"


def _surveys(rows):
    """rows: (date, score, doctor, channel, comment)."""
    frame = pd.DataFrame(rows, columns=["surveyed_at", "score", "doctor_id", "channel", "comment"])
    frame["surveyed_at"] = pd.to_datetime(frame["surveyed_at"])
    frame["score"] = frame["score"].astype(float)
    return frame


def test_nps_is_promoters_minus_detractors_in_points():
    assert satisfaction.nps_of(pd.Series([10, 9, 8, 7, 6, 0])) == pytest.approx(0)
    assert satisfaction.nps_of(pd.Series([10, 10, 9, 6])) == pytest.approx(50)
    assert satisfaction.nps_of(pd.Series([], dtype=float)) is None


def test_a_doctors_fall_past_twenty_points_is_flagged_and_no_text_is_shown():
    """
    Doctor A: 30 answers before July, 20 of 10 and 10 of 8 → NPS +67; 30 after, 10 of 10, 10 of 8, 10 of 3 with a
    comment naming the patient → +0: a fall of 67 points, past 20. Doctor B: 30 of 9 before and after: no fall.
    A score of 12 is left out and counted. The clinic's NPS falls too, from 50/60 − 0 = +83 to 40/60 − 10/60 = +50:
    33 points, its own finding after the doctor's.
    """
    rows = [("2024-03-01", 10 if i < 20 else 8, "A", "美团", None) for i in range(30)]
    rows += [("2024-09-01", (10, 8, 3)[i % 3], "A", "美团", SECRET if i % 3 == 2 else None) for i in range(30)]
    rows += [(f"2024-{m}-01", 9, "B", "抖音", None) for m in ("03", "09") for _ in range(30)]
    rows += [("2024-09-02", 12, "B", "抖音", None)]
    result = satisfaction.net_promoter(_surveys(rows), start=START, end=END, thresholds=thresholds.resolve())
    flag, clinic = result.flags
    assert (flag.subject, flag.metric) == ("A", "nps_fall")
    assert (clinic.subject, clinic.metric, round(clinic.value)) == (None, "nps_fall_clinic", 33)
    assert flag.reference == pytest.approx(200 / 3) and flag.facts["nps"] == pytest.approx(0)
    assert flag.value == pytest.approx(200 / 3)
    assert result.left_out == 1 and "1份评分不在0–10之间" in result.zh
    assert result.by_channel.loc["抖音", "nps"] == 100
    published = json.dumps(result.metrics(), ensure_ascii=False)
    for text in (result.zh, result.en, published, result.table_for("zh").to_string(), result.title("zh")):
        assert "王小明" not in text and "态度冷淡" not in text


def test_reviews_under_four_stars_lately_per_platform():
    rows = [("大众点评", "2024-03-01", 5, "很好")] * 25 + [("大众点评", "2024-09-01", s, "排队等了很久") for s in (3, 4) * 12]
    rows += [("美团", "2024-09-01", 5, "不错")] * 25
    data = pd.DataFrame(rows, columns=["platform", "reviewed_at", "stars", "text"])
    data["reviewed_at"], data["stars"] = pd.to_datetime(data["reviewed_at"]), data["stars"].astype(float)
    result = satisfaction.reviews(data, start=START, end=END, thresholds=thresholds.resolve())
    [flag] = result.flags
    assert flag.subject == "大众点评" and flag.value == pytest.approx(3.5) and flag.reference == 5
    assert result.stars_recent == pytest.approx((24 * 3.5 + 25 * 5) / 49)


def test_complaints_are_counted_by_theme_never_quoted():
    surveys = _surveys([("2024-05-01", 2, "A", "美团", SECRET), ("2024-05-02", 9, "A", "美团", "医生态度很好"),
                        ("2024-05-03", 5, "A", "美团", "价格有点贵，等了很久"), ("2024-05-04", 4, "A", "美团", None)])
    reviews = pd.DataFrame({"platform": ["美团", "美团"], "reviewed_at": pd.to_datetime(["2024-06-01", "2024-06-02"]),
                            "stars": [1.0, 5.0], "text": ["推销办卡太多", "好"]})
    result = satisfaction.complaints(surveys, reviews, start=START, end=END)
    # the detractors with a comment (2, 5) and the 1-star review; a promoter's or a silent detractor's are not
    assert result.table["complaints"].to_dict() == {"wait": 1, "price": 1, "manner": 1, "upselling": 1, "pain": 0,
                                                    "outcome": 0, "booking": 0, "environment": 0, "other": 0}
    assert result.metrics()["kpis"]["complaints"] == 3
    shown = " ".join([result.zh, result.en, result.title("zh"), result.table_for("zh").to_string(),
                      json.dumps(result.metrics(), ensure_ascii=False)])
    assert "王小明" not in shown and "价格有点贵" not in shown and "推销办卡太多" not in shown


def test_a_five_point_survey_is_not_an_nps_and_missing_tables_say_what_would_add_them():
    five = _surveys([("2024-05-01", s, "A", "美团", None) for s in (1, 2, 3, 4, 5) * 5])
    assert isinstance(satisfaction.net_promoter(five, start=START, end=END), Unavailable)

    class Bare:
        config = type("C", (), {"period": type("P", (), {"start": START, "end": END})()})()

        def table(self, name):
            return None

    section = satisfaction.diagnose(Bare(), thresholds.resolve())
    assert all(isinstance(r, Unavailable) for r in section.results())
    assert "0–10" in section.nps.zh and "大众点评" in section.reviews.zh


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["general_clinic", "children_clinic"])
def test_no_comment_or_review_text_reaches_any_output_of_a_sample_run(sample, sample_run):
    """What patients wrote, and the names and phones some of them signed with, appear in no output: the report,
    kpis.json, the executed chapters."""
    from playbook.clinic import load_clinic
    from playbook.config import SAMPLES_DIR

    clinic = load_clinic(SAMPLES_DIR / sample)
    written = set(clinic.table("surveys")["comment"].dropna()) | set(clinic.table("reviews")["text"].dropna())
    phrases = {part for text in written for part in text.split("，") if len(part) >= 4 and part != "还可以"}
    assert any(text.startswith("我是") for text in written)  # the sample holds signed comments to leak
    run = sample_run(sample)
    outputs = [run.kpis, *run.out_dir.glob("*.ipynb"), run.out_dir / "report.html"]
    for path in outputs:
        text = path.read_text(encoding="utf-8")
        leaked = [p for p in phrases if p in text]
        assert not leaked and "我是" not in text, (path.name, leaked[:3])


def test_a_fall_within_the_noise_of_few_answers_is_not_flagged():
    """20 answers before (12 promoters, 4 detractors: +40) and 20 after (9 and 6: +15): 25 points, past the line,
    but twice its standard error is 52 points: noise, not a finding."""
    before = [10] * 12 + [7] * 4 + [3] * 4
    after = [10] * 9 + [7] * 5 + [3] * 6
    rows = [("2024-03-01", s, "A", "美团", None) for s in before] + [("2024-09-01", s, "A", "美团", None) for s in after]
    result = satisfaction.net_promoter(_surveys(rows), start=START, end=END, thresholds=thresholds.resolve())
    assert result.table.loc["A", "nps_before"] == pytest.approx(40) and result.table.loc["A", "nps_recent"] == pytest.approx(15)
    assert result.flags == []
