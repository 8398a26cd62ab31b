"""The task board: written for the clinic, edited by hand in Excel, read back, and reviewed [S0]."""
from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from playbook.results import GREEN, RED, YELLOW
from playbook.taskboard import INVALID, KEYS, read_board, three_effect, untouched, write_board
from playbook.weekly import Benefit, TargetProgress, Week

W49 = Week(2025, 49)  # Monday 1 December .. Sunday 7 December 2025


def board_rows():
    rows = [
        ("A1", "A", "调整抖音活动", "市场部", "王经理", "first_visit_conversion:抖音", 0.21, 0.25, dt.date(2025, 12, 5), YELLOW),
        ("B1", "B", "美团预约前一天电话确认", "前台", None, "no_show_rate:美团", 0.26, 0.20, dt.date(2025, 12, 7), RED),
        ("C1", "C", "王医生的老患者逐一回访", "客服部", None, "return_visits", 129, 150, dt.date(2025, 12, 7), YELLOW),
        ("D1", "D", "核对耗材领用登记", "采购与财务", None, None, None, None, dt.date(2026, 1, 31), YELLOW),
    ]
    frame = pd.DataFrame([(*r[:8], r[8], r[9], None, None) for r in rows],
                         columns=["task_id", "prescription", "task", "owner_department", "owner", "metric_id",
                                  "last_actual", "target", "deadline", "status", "done_on", "result"])
    return frame[KEYS]


def edit(path, changes: dict[tuple[int, str], object], *, add: list | None = None):
    """Change cells as a front desk does in Excel: by row number and header."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    header = {cell.value: cell.column for cell in sheet[2]}
    for (row, column), value in changes.items():
        sheet.cell(row=row, column=header[column]).value = value  # cell(value=None) would leave the old value
    if add:
        sheet.append(add)
    book.save(path)


def test_a_board_round_trips_through_excel_with_the_clinics_edits(tmp_path):
    path = write_board(tmp_path / "taskboard.xlsx", board_rows(), W49)
    board = read_board(path, expected=W49)
    assert board.problems == [] and board.week == W49
    assert board.table["task_id"].tolist() == ["A1", "B1", "C1", "D1"]
    assert board.table["status"].tolist() == [YELLOW, RED, YELLOW, YELLOW]
    assert board.table["metric_id"].tolist() == ["first_visit_conversion:抖音", "no_show_rate:美团", "return_visits", None]
    assert board.table["deadline"].tolist() == [dt.date(2025, 12, 5), dt.date(2025, 12, 7), dt.date(2025, 12, 7),
                                                dt.date(2026, 1, 31)]
    assert board.table["row"].tolist() == [3, 4, 5, 6]  # as Excel numbers them: a title line, then the header

    # During the week: A1 done on time, B1 done late (written the way people type it), C1 untouched,
    # and a task of the clinic's own added under the table.
    edit(path, {(3, "状态"): "绿", (3, "完成日期"): dt.date(2025, 12, 4), (3, "成果/备注"): "抖音成交率回到25%",
                (4, "状态"): "已完成", (4, "完成日期"): "2025/12/9"},
         add=["K1", None, "前台培训预约确认话术", "前台", None, None, None, None, "2025-12-06", "黄"])
    board = read_board(path, expected=W49)
    assert board.problems == []
    t = board.table.set_index("task_id")
    assert t["status"].to_dict() == {"A1": GREEN, "B1": GREEN, "C1": YELLOW, "D1": YELLOW, "K1": YELLOW}
    assert t.loc["B1", "done_on"] == dt.date(2025, 12, 9) and t.loc["A1", "result"] == "抖音成交率回到25%"
    review = three_effect(board, progress(), None, W49)
    # due by 7 December: A1, B1, C1, K1; on time: A1; late: B1; overdue: C1, K1. D1 runs into January.
    assert (review.tasks, review.due, review.on_time, review.late, review.overdue) == (5, 4, 1, 1, 2)
    assert review.on_time_rate == pytest.approx(0.25)
    efficiency = review.table_for("zh").iloc[0]
    assert efficiency.iloc[2] == "25.0%" and "到期4项，按时完成1项" in efficiency.iloc[5]


def test_a_typo_in_a_status_is_named_with_file_row_and_fix_and_the_rest_is_reviewed(tmp_path):
    path = write_board(tmp_path / "2025-W48" / "taskboard.xlsx", board_rows(), W49)
    edit(path, {(3, "状态"): "洪", (4, "状态"): None, (5, "截止日期"): "下周", (5, "状态"): "green"})
    board = read_board(path, expected=W49)
    problems = {p.column: p for p in board.problems}
    typo = next(p for p in board.problems if "洪" in p.message)
    assert typo.rows == [3] and typo.column == "状态" and "红, 黄 or 绿" in typo.fix
    assert str(typo).startswith("2025-W48/taskboard.xlsx, column '状态'")  # which week's board
    blank = next(p for p in board.problems if "no status" in p.message)
    assert blank.rows == [4]
    assert problems["截止日期"].rows == [5] and "2025-12-03" in problems["截止日期"].fix
    assert board.table["status"].tolist() == [INVALID, None, GREEN, YELLOW]
    review = three_effect(board, progress(), None, W49)
    assert review.tasks == 3  # the typo is left out; the blank counts, as not done
    assert (review.due, review.overdue) == (1, 1)  # B1 (no status); C1 has no readable deadline


def test_a_board_of_another_week_or_without_its_title_is_reported_and_still_read(tmp_path):
    path = write_board(tmp_path / "taskboard.xlsx", board_rows(), Week(2025, 47))
    board = read_board(path, expected=W49)
    assert board.week == Week(2025, 47) and "2025-W47" in board.problems[0].message and "--board" in board.problems[0].fix
    edit(path, {(1, "任务编号"): None})  # the title line deleted
    board = read_board(path, expected=W49)
    assert board.week == W49 and board.problems[0].rows == [1] and len(board.table) == 4


def test_a_file_that_is_no_workbook_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "taskboard.xlsx"
    path.write_text("任务编号,状态\nA1,红\n", encoding="utf-8")
    board = read_board(path)
    assert board.table.empty and "Excel" in board.problems[0].message and board.problems[0].zh


def test_the_board_is_an_excel_file_the_clinic_can_keep_up(tmp_path):
    path = write_board(tmp_path / "taskboard.xlsx", board_rows(), W49)
    sheet = load_workbook(path).worksheets[0]
    assert sheet.freeze_panes == "A3"
    assert [c.value for c in sheet[2]][:3] == ["任务编号", "处方", "任务"]
    assert "2025-W49" in sheet["A1"].value
    validation = sheet.data_validations.dataValidation[0]
    assert validation.formula1 == '"红,黄,绿"' and "J3" in str(validation.sqref)
    rules = {r.formula[0] for cf in sheet.conditional_formatting for r in cf.rules}
    assert rules == {'$J3="红"', '$J3="黄"', '$J3="绿"'}
    assert sheet["J4"].value == "红"  # the status word, so the colour follows when someone changes it
    assert untouched(path)
    edit(path, {(3, "状态"): "绿"})
    assert not untouched(path)  # a rebuilt pack keeps the clinic's copy


def test_english_boards_read_back_too(tmp_path):
    path = write_board(tmp_path / "taskboard.xlsx", board_rows(), W49, lang="en")
    assert load_workbook(path).worksheets[0]["J3"].value == "yellow"
    board = read_board(path, expected=W49)
    assert board.problems == [] and board.table["status"].tolist() == [YELLOW, RED, YELLOW, YELLOW]
    # the channel stays as the data writes it (抖音, not Douyin), so the metric still counts next week
    assert board.table["metric_id"].tolist()[:2] == ["first_visit_conversion:抖音", "no_show_rate:美团"]


def progress():
    table = pd.DataFrame({"metric_id": ["new_patients", "revenue", "first_visit_conversion", "referral_share"],
                          "status": [GREEN, RED, YELLOW, GREEN], "provisional": [False, False, True, True],
                          "kind": ["count", "money", "rate", "rate"], "deviation": [0.1, -0.3, -0.5, 0.2]})
    return TargetProgress("target_progress", table, "", "", week=W49, red_line=-0.20)


def test_three_effect_review_counts_targets_met_and_compares_benefit_with_the_weeks_before():
    benefit = Benefit(W49, "costs", cost_per_patient=550.0, cost_per_patient_before=500.0, high_value_margin=0.62,
                      high_value_margin_before=0.70)
    review = three_effect(None, progress(), benefit, W49)
    # the provisional conversion not yet met is left out; the provisional referral share already met counts
    assert (review.met, review.judged) == (2, 3)
    table = review.table_for("zh")
    # what cannot be measured (no board yet, satisfaction in no export) is said once, never a row of 无数据
    assert table["指标"].tolist() == ["目标达成率", "单客成本", "高值项目利润率（近4周）"]
    assert "无数据" not in table.to_string()
    assert table.iloc[0, 2] == "66.7%"
    assert table.iloc[1, 2:5].tolist() == ["550元", "500元", "+10.0%"]
    assert table.iloc[2, 2:5].tolist() == ["62.0%", "70.0%", "−8.0个百分点".replace("−", "-")]
    finding = review.finding("zh")
    assert "上升10%" in finding and "低8.0个百分点" in finding
    assert "任务按时完成率（还没有上周的任务看板" in finding and "客户满意度" in finding
    assert "taskboard.xlsx" in finding and not re.search(r"W\d+/", finding)  # a file the clinic keeps, no path
    english = review.table_for("en")
    assert english.iloc[1, 2:5].tolist() == ["¥550", "¥500", "+10.0%"] and "points" in english.iloc[2, 4]
    # the workbook keeps the numbers as numbers, a rate's change in points
    sheet = review.sheet("zh").frame
    assert sheet.iloc[1, 2:5].tolist() == [550.0, 500.0, pytest.approx(0.1)]
    assert sheet.iloc[2, 4] == pytest.approx(-8.0)
