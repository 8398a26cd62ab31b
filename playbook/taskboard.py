"""The task board of the weekly meeting and the next week's "three-effect" review [S0].

method.md, "Weekly review meeting" [S0] (seeds/000): the meeting ends with SMART tasks (owner,
deadline, measure); a board shows them during the week — red = a task behind by more than 20% (预警任务,
进度滞后超20%), yellow = in progress (跟进任务), green = done, with its result (完成任务, 附成果数据对比);
before the next meeting comes the three-effect review (三效评估): efficiency (tasks done on time),
effect (target attainment, satisfaction) and benefit (cost per patient, high-value margin).

The board is an Excel file the clinic keeps up during the week (``taskboard.xlsx``, one row a task,
a drop-down on the status). The weekly pack of week W writes the board of week W+1 beside its other
files; the pack of W+1 reads it back (`read_board`) and reviews it (`three_effect`). The rows of a
board: the prescriptions' tasks running that week, the tasks of the previous board not yet done
(carried with the clinic's own status and notes), and one 5-Why task per metric of the week that is
red. A task whose metric is behind its target by more than 20% starts the week red, as [S0] defines red.

Reading back is forgiving: a status typed by hand (红 / 红色 / red / 滞后, 完成 for green …) is
understood, and each cell that cannot be (a typo, a date that is no date, a board of another week)
is reported with the file, the row as Excel numbers it and the fix, while the rest of the board
is reviewed.

Review (the board's week W): a task is *due* when its deadline is in W or before; it is *on time*
when it is green with a completion day on or before its deadline (green without a day counts as on
time: the status is the clinic's word). Target attainment: the week's targets met (green) over the
targets whose outcome is known (provisional values not yet met are left out). Benefit: the week's
cost per patient and high-value margin against the 4 weeks before (`playbook.weekly.benefit`).
Satisfaction is in no export, so the review says it is not measured.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from . import i18n, parsing
from .errors import PlaybookError
from .results import GREEN, RED, YELLOW
from .thresholds import DEFAULTS
from .weekly import (MARGIN_WEEKS, STATUS_WORDS, WEEKLY_METRICS, Benefit, MetricError, TargetProgress, Week, WeekError,
                     behind, change_text, department_name, metric_label, parse_metric, status_values, week_value)
from .workbook import Sheet, write_workbook

__all__ = ["BOARD_NAME", "BoardError", "Board", "ThreeEffect", "board_rows", "board_sheet", "board_table",
           "write_board", "read_board", "three_effect", "board_sentence"]

BOARD_NAME = "taskboard.xlsx"
MARGIN_ALERT = 0.05  # a high-value margin 5 points under the weeks before is worth a sentence

# key, 中文 header, English header
COLUMNS = (
    ("task_id", "任务编号", "Task ID"),
    ("prescription", "处方", "Plan"),
    ("task", "任务", "Task"),
    ("owner_department", "责任部门", "Department"),
    ("owner", "负责人", "Owner"),
    ("metric_id", "指标", "Metric"),
    ("last_actual", "上周完成", "Last week"),
    ("target", "本周目标", "Target this week"),
    ("deadline", "截止日期", "Deadline"),
    ("status", "状态", "Status"),
    ("done_on", "完成日期", "Done on"),
    ("result", "成果/备注", "Result / notes"),
)
KEYS = [key for key, _, _ in COLUMNS]
_HEADERS = {parsing.normalize_text(text).lower(): key for key, zh, en in COLUMNS for text in (zh, en)}
# What people type in a status cell.
STATUS_ALIASES = {
    RED: ("红", "红色", "red", "r", "预警", "滞后", "落后"),
    YELLOW: ("黄", "黄色", "yellow", "y", "进行中", "跟进", "推进中", "in progress"),
    GREEN: ("绿", "绿色", "green", "g", "完成", "已完成", "done"),
}
_STATUS = {parsing.normalize_text(word).lower(): status for status, words in STATUS_ALIASES.items() for word in words}
INVALID = "invalid"  # a status cell the review cannot read: the task is left out of it
_WEEK_IN_TITLE = re.compile(r"(\d{4})-W(\d{2})")
HEADER_SCAN_ROWS = 5


class BoardError(PlaybookError):
    """A task board cell or file the review cannot read; the rest of the board is still reviewed."""

    @property
    def where(self) -> str:
        """Every week's board is a taskboard.xlsx: name it with its week's folder."""
        return f"{self.path.parent.name}/{self.path.name}" if self.path else ""

    def __str__(self) -> str:
        text = super().__str__()
        return text.replace(self.path.name, self.where, 1) if self.path else text


# --------------------------------------------------------------------------------------------------
# The coming week's board


def board_rows(pack, previous: "Board | None" = None) -> pd.DataFrame:
    """The rows of the board for the week after ``pack.week`` (see the module docstring)."""
    week = pack.week
    coming = week.shift(1)
    progress = pack.progress.table.set_index("metric_id")
    targets = pack.targets_of(coming).table.set_index("metric_id")["target"]
    lang = pack.lang
    rows: list[dict] = []
    seen: set[str] = set()

    def numbers(metric_id) -> tuple:
        if not isinstance(metric_id, str) or not metric_id:
            return None, None, None
        name, _, scope = metric_id.partition(":")
        actual = week_value(pack.data, name, week, scope or None)
        return actual, targets.get(metric_id), progress["status"].get(metric_id)

    if previous is not None:
        for task in previous.table.itertuples(index=False):
            if task.status == GREEN or task.task_id in seen:
                continue
            actual, target, metric_status = numbers(task.metric_id)
            status = RED if metric_status == RED else task.status if task.status in (RED, YELLOW) else YELLOW
            rows.append({**task._asdict(), "last_actual": actual,
                         "target": target if target is not None else task.target, "status": status})
            seen.add(task.task_id)
    done = set(previous.table.loc[previous.table["status"] == GREEN, "task_id"]) if previous is not None else set()
    tasks = pack.tasks
    if tasks is not None and not tasks.empty:
        running = tasks[(pd.to_datetime(tasks["start"]) <= pd.Timestamp(coming.end))
                        & (pd.to_datetime(tasks["deadline"]) >= pd.Timestamp(coming.start))]
        for task in running.itertuples(index=False):
            if task.task_id in seen or task.task_id in done:
                continue
            metric_id = _metric_id(task.metric)
            actual, target, metric_status = numbers(metric_id)
            rows.append({"task_id": str(task.task_id), "prescription": task.prescription, "task": task.task,
                         "owner_department": task.owner_department,
                         "owner": _text(getattr(task, "owner", None)) or head_of(task.owner_department, lang),
                         "metric_id": metric_id, "last_actual": actual,
                         "target": target if metric_id else i18n.pick(lang, "截止前完成", "done by the deadline"),
                         "deadline": pd.Timestamp(task.deadline).date(),
                         "status": RED if metric_status == RED else YELLOW, "done_on": None, "result": None})
            seen.add(str(task.task_id))
    tracked = {r["metric_id"] for r in rows if r["metric_id"]}
    red = pack.progress.table.assign(owner_department=pack.progress.owners(lang))
    red = red[(red["status"] == RED) & ~red["metric_id"].isin(tracked)]
    for number, row in enumerate(red.itertuples(index=False), start=1):
        lag = abs(row.deviation) * 100
        # the coming week's target, else this week's held: the task is to close that gap
        target = targets.get(row.metric_id, row.target)
        rows.append({"task_id": f"{week.label}-R{number}", "prescription": i18n.pick(lang, "周会", "Meeting"),
                     "task": i18n.pick(lang, f"5Why复盘：{metric_label(row.metric_id)}落后目标{lag:.0f}%",
                                       f"5-Why: {metric_label(row.metric_id, 'en')} {lag:.0f}% behind target"),
                     "owner_department": row.owner_department, "owner": head_of(row.owner_department, lang),
                     "metric_id": row.metric_id, "last_actual": row.actual, "target": target, "deadline": coming.end,
                     "status": YELLOW, "done_on": None, "result": None})
    return pd.DataFrame(rows, columns=KEYS)


def head_of(department, lang: str = "zh") -> str | None:
    """The person a task falls to until the meeting names one: the head of its (first) department."""
    first = _text(department)
    if first is None:
        return None
    first = department_name(first.split("、")[0], lang)
    return i18n.pick(lang, f"{first}负责人", f"Head of {first}")


def _text(value) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip() \
        else str(value)


def _metric_id(value) -> str | None:
    """A metric as the tasks or the board write it (an id or a label such as 初诊成交率 · 抖音) → its id."""
    text = _text(value)
    if text is None:
        return None
    name, scope = parse_metric(text.replace(" · ", ":"))
    return f"{name}:{scope}" if scope else name


def _row_metrics(frame: pd.DataFrame) -> list:
    """Each row's metric (`playbook.metrics.Metric`), None for a milestone task."""
    return [WEEKLY_METRICS[m.partition(":")[0]] if isinstance(m, str) and m else None for m in frame["metric_id"]]


def board_sheet(rows: pd.DataFrame, week: Week, lang: str = "zh", *, red_line: float = DEFAULTS["deviation_red"].value):
    """The board as a workbook sheet: the clinic's headers, a status drop-down, rows coloured by status
    (red: behind by more than ``red_line``, the threshold ``deviation_red`` in force)."""
    line = behind(red_line)
    label = {key: (zh if lang == "zh" else en) for key, zh, en in COLUMNS}
    frame = pd.DataFrame({label[k]: rows[k].to_numpy() for k in KEYS})
    frame[label["metric_id"]] = [metric_label(m, lang, as_written=True) if isinstance(m, str) and m else None
                                 for m in rows["metric_id"]]
    frame[label["status"]] = [STATUS_WORDS[s][0 if lang == "zh" else 1] if s in STATUS_WORDS else None
                              for s in rows["status"]]
    kinds = [m.sheet_format if m else None for m in _row_metrics(rows)]
    words = [w[0 if lang == "zh" else 1] for w in STATUS_WORDS.values()]
    note = i18n.pick(
        lang, f"任务看板 {week.label}（{week.start.month}月{week.start.day}日–{week.end.month}月{week.end.day}日）："
              f"每天更新状态——红 = 进度滞后超过{line}，黄 = 正常推进，绿 = 已完成（在“成果/备注”写成果数据）[S0]",
        f"Task board {week.label} ({week.start:%d %b} – {week.end:%d %b %Y}): update the status daily — red = behind by "
        f"more than {line}, yellow = in progress, green = done (write the result under notes) [S0]")
    return Sheet(i18n.pick(lang, "任务看板", "Task board"), frame,
                 formats={label["last_actual"]: kinds, label["target"]: kinds, label["deadline"]: "date",
                          label["done_on"]: "date"},
                 status=label["status"], status_values=status_values(lang), note=note,
                 choices={label["status"]: words})


def _stamp(path: Path) -> Path:
    return path.with_name(f".{path.name}.sha256")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def untouched(path: Path | str) -> bool:
    """The board is still as `write_board` wrote it (nobody has saved it since), so it may be replaced."""
    path = Path(path)
    stamp = _stamp(path)
    return path.exists() and stamp.exists() and stamp.read_text(encoding="ascii").strip() == _digest(path)


def write_board(path: Path | str, rows: pd.DataFrame, week: Week, lang: str = "zh", *,
                red_line: float = DEFAULTS["deviation_red"].value) -> Path:
    """Write the board of ``week`` to ``path``, with a sheet saying how to fill it in.

    A hidden stamp beside it (``.taskboard.xlsx.sha256``) records what was written, so that a rebuilt
    pack replaces a board nobody has edited and keeps one the clinic has (`untouched`).
    """
    how = pd.DataFrame({
        i18n.pick(lang, "列", "Column"): [i18n.pick(lang, "状态", "Status"), i18n.pick(lang, "完成日期", "Done on"),
                                         i18n.pick(lang, "成果/备注", "Result / notes"), i18n.pick(lang, "新任务", "New task")],
        i18n.pick(lang, "怎么填", "How to fill it in"): [
            i18n.pick(lang, f"红 = 进度滞后超过{behind(red_line)}；黄 = 正常推进；绿 = 已完成",
                      f"red = behind by more than {behind(red_line)}; yellow = in progress; green = done"),
            i18n.pick(lang, "完成的那天，如 2025-12-03", "the day it was done, e.g. 2025-12-03"),
            i18n.pick(lang, "完成的任务写成果数据（如：抖音到店率 15% → 18%）", "for a done task, its result (e.g. Douyin "
                                                                          "arrival rate 15% → 18%)"),
            i18n.pick(lang, "在表格下方加一行，写任务编号、任务、责任部门、截止日期和状态",
                      "add a row under the table with an id, the task, the department, the deadline and a status")],
    })
    path = write_workbook(path, [board_sheet(rows, week, lang, red_line=red_line),
                                 Sheet(i18n.pick(lang, "填写说明", "How to fill in"), how)])
    _stamp(path).write_text(_digest(path) + "\n", encoding="ascii")
    return path


def board_table(rows: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """The board as the pack's page prints it."""
    metrics = _row_metrics(rows)

    def number(value, metric):
        return "—" if metric is None else metric.format(value, lang)

    return pd.DataFrame({
        i18n.pick(lang, "编号", "ID"): rows["task_id"].fillna("—").to_numpy(),
        i18n.pick(lang, "任务", "Task"): rows["task"].fillna("—").to_numpy(),
        i18n.pick(lang, "责任部门", "Department"): [department_name(d, lang) if isinstance(d, str) else "—"
                                                  for d in rows["owner_department"]],
        i18n.pick(lang, "指标", "Metric"): [metric_label(m, lang) if isinstance(m, str) and m else "—"
                                          for m in rows["metric_id"]],
        i18n.pick(lang, "上周完成", "Last week"): [number(v, m) for v, m in zip(rows["last_actual"], metrics)],
        i18n.pick(lang, "本周目标", "Target"): [number(v, m) for v, m in zip(rows["target"], metrics)],
        i18n.pick(lang, "截止", "Deadline"): [(f"{d.month}月{d.day}日" if lang == "zh" else f"{d:%d %b}")
                                            if isinstance(d, dt.date) else "—" for d in rows["deadline"]],
        i18n.pick(lang, "状态", "Status"): [STATUS_WORDS[s][0 if lang == "zh" else 1] if s in STATUS_WORDS else "—"
                                          for s in rows["status"]],
    })


def board_sentence(rows: pd.DataFrame, week: Week, lang: str = "zh", *,
                   red_line: float = DEFAULTS["deviation_red"].value, upcoming: dt.date | None = None) -> str:
    """The board in one sentence; ``upcoming``: the day the prescribed tasks start, when it is later."""
    if rows.empty:
        text = i18n.pick(lang, f"{week.label}的任务看板还是空的：会上按SMART原则认领的任务写进 {BOARD_NAME}。",
                         f"The board of {week.label} is empty: write the SMART tasks the meeting assigns in {BOARD_NAME}.")
        if upcoming is not None:
            text += i18n.pick(lang, f"处方任务从{i18n.day(upcoming)}开始，那一周的看板会列出它们。",
                              f" The prescribed tasks start on {i18n.day(upcoming, 'en')}; the board of that week "
                              f"lists them.")
        return text
    red, line = int((rows["status"] == RED).sum()), behind(red_line)
    red_zh = f"其中{red}项开局即为红色（指标落后目标超过{line}），会上优先讨论；" if red else ""
    red_en = f" {red} start red (their metric is more than {line} behind target): discuss them first." if red else ""
    why_zh = f"“5Why复盘”任务针对本周落后超过{line}的指标：连问五个为什么找到根因，并落实补救措施 [S0]。" \
        if rows["task_id"].astype(str).str.contains("-R").any() else ""
    why_en = (f" A 5-Why task is about a metric more than {line} behind this week: ask why five times to reach the "
              "cause, then put the remedy in place [S0].") if why_zh else ""
    return i18n.pick(lang, f"下周共{len(rows)}项任务。{red_zh}{why_zh}各部门在 {BOARD_NAME} 中每天更新状态，完成时填写完成日期和成果，"
                           f"负责人一栏在会上改为具体的人；下周的数据包据此做三效评估。",
                     f"{i18n.counted(len(rows), 'task')} for next week.{red_en}{why_en} Each department updates its "
                     f"status in {BOARD_NAME} daily, with the day and the result when done, and the meeting puts a "
                     f"name in place of each department head; next week's pack reviews the board from it.")


# --------------------------------------------------------------------------------------------------
# Reading a board back


@dataclass
class Board:
    """A board as read back: one row per task the review can use, and what could not be read."""

    path: Path
    week: Week | None
    table: pd.DataFrame  # KEYS + row (the Excel row); status red/yellow/green, None when blank, INVALID when unreadable
    problems: list[PlaybookError] = field(default_factory=list)


def read_board(path: Path | str, *, expected: Week | None = None) -> Board:
    """Read a task board the clinic kept (``taskboard.xlsx``); problems are collected, never raised.

    ``expected``: the week the board should be for (the week under review); a board of another week is
    reported, and read all the same.
    """
    path = Path(path)
    empty = pd.DataFrame(columns=[*KEYS, "row"])
    try:
        book = load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors for a file that is not a workbook
        return Board(path, None, empty, [BoardError(
            f"cannot be read as an Excel workbook ({type(exc).__name__})", path=path,
            fix="save the board as .xlsx (Excel workbook), or give the board the weekly pack wrote",
            zh="无法作为Excel工作簿打开：请另存为 .xlsx，或使用数据包生成的任务看板")])
    try:
        grid = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    problems: list[PlaybookError] = []
    week = _board_week(grid, path, expected, problems)
    header_at = next((i for i, r in enumerate(grid[:HEADER_SCAN_ROWS])
                      if {"task_id", "status"} <= {_HEADERS.get(_norm(c)) for c in r}), None)
    if header_at is None:
        found = [str(c) for r in grid[:HEADER_SCAN_ROWS] for c in r if c is not None]
        problems.append(BoardError(
            f"no header row with 任务编号 and 状态 in the first {HEADER_SCAN_ROWS} rows; found: {', '.join(found) or 'none'}",
            path=path, fix="keep the header row the weekly pack wrote (任务编号 … 状态 …)",
            zh=f"前{HEADER_SCAN_ROWS}行中没有包含“任务编号”和“状态”的表头：请保留数据包写入的表头行"))
        return Board(path, week, empty, problems)
    columns = {j: _HEADERS[_norm(c)] for j, c in enumerate(grid[header_at]) if _HEADERS.get(_norm(c))}
    records = []
    for offset, cells in enumerate(grid[header_at + 1:], start=header_at + 2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        record = {key: None for key in KEYS}
        for j, key in columns.items():
            record[key] = cells[j] if j < len(cells) else None
        record["row"] = offset
        records.append(record)
    table = pd.DataFrame(records, columns=[*KEYS, "row"])
    if table.empty:
        return Board(path, week, table, problems)
    table["task_id"] = [_text(v) or f"row{r}" for v, r in zip(table["task_id"], table["row"])]
    table["task"] = table["task"].map(_text)
    table["status"] = pd.Series(_statuses(table, path, problems), index=table.index, dtype=object)
    for key, header in (("deadline", "截止日期"), ("done_on", "完成日期")):
        table[key] = _dates(table, key, header, path, problems)
    table["metric_id"] = pd.Series(_metrics(table, path, problems), index=table.index, dtype=object)
    return Board(path, week, table, problems)


def _norm(value) -> str:
    """A cell as text to compare: "" for an empty cell."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return parsing.normalize_text(str(value)).strip().lower()


def _board_week(grid, path: Path, expected: Week | None, problems: list[PlaybookError]) -> Week | None:
    title = " ".join(str(c) for r in grid[:HEADER_SCAN_ROWS] for c in r if c is not None)
    match = _WEEK_IN_TITLE.search(title)
    week = None
    if match:
        try:
            week = Week.parse(match.group(0))
        except WeekError:
            week = None
    if week is None:
        problems.append(BoardError(
            "the board does not say which week it is for" + (f"; read as {expected.label}" if expected else ""),
            path=path, rows=[1], fix="keep the title row the weekly pack wrote, e.g. 任务看板 2025-W48 (…)",
            zh=f"看板第1行没有写明周次{f'，已按{expected.label}读取' if expected else ''}：请保留数据包写入的标题行（如 任务看板 2025-W48）"))
        return expected
    if expected is not None and week != expected:
        problems.append(BoardError(
            f"the board is for {week.label}, but the pack reviews {expected.label}", path=path, rows=[1],
            fix=f"give the board of {expected.label} (the one the pack of {expected.shift(-1).label} wrote) with --board",
            zh=f"这份看板是{week.label}的，而本次复盘的是{expected.label}：请用 --board 指定{expected.label}的看板"))
    return week


def _statuses(table: pd.DataFrame, path: Path, problems: list[PlaybookError]) -> list:
    out, bad, blank = [], [], []
    for value, row in zip(table["status"], table["row"]):
        text = _norm(value)
        if not text:
            blank.append(row)
            out.append(None)
        elif text in _STATUS:
            out.append(_STATUS[text])
        else:
            bad.append((row, value))
            out.append(INVALID)
    if bad:
        shown = ", ".join(repr(v) for _, v in bad[:3])
        problems.append(BoardError(
            f"{i18n.counted(len(bad), 'status is', 'statuses are')} not red, yellow or green, e.g. {shown}; "
            f"{i18n.plural(len(bad), 'that task is', 'those tasks are')} left out of the review",
            path=path, column="状态", rows=[r for r, _ in bad], fix="write 红, 黄 or 绿 (or red, yellow, green)",
            zh=f"{len(bad)} 个状态不是红、黄、绿，例如 {shown}，这些任务未计入复盘：请改为 红、黄 或 绿"))
    if blank:
        problems.append(BoardError(
            f"{i18n.counted(len(blank), 'task has', 'tasks have')} no status; {i18n.plural(len(blank), 'it counts', 'they count')} as not done", path=path, column="状态", rows=blank,
            fix="write 红, 黄 or 绿 for every task", zh=f"{len(blank)} 项任务没有填写状态，按未完成计：请为每项任务填写 红、黄 或 绿"))
    return out


def _dates(table: pd.DataFrame, key: str, header: str, path: Path, problems: list[PlaybookError]) -> list:
    parsed, invalid = parsing.parse_dates(table[key].astype(object).where(table[key].notna(), None))
    if invalid.any():
        examples = ", ".join(repr(v) for v in table.loc[invalid, key].head(3))
        problems.append(BoardError(
            f"{i18n.counted(int(invalid.sum()), 'value is', 'values are')} not dates, e.g. {examples}", path=path, column=header,
            rows=table.loc[invalid, "row"].tolist(), fix="write dates like 2025-12-03 or 2025/12/3",
            zh=f"{int(invalid.sum())} 个值不是日期，例如 {examples}：请写成 2025-12-03 或 2025/12/3"))
    return [None if pd.isna(d) else d.date() for d in parsed]


def _metrics(table: pd.DataFrame, path: Path, problems: list[PlaybookError]) -> list:
    out = []
    for value, row in zip(table["metric_id"], table["row"]):
        try:
            out.append(_metric_id(value))
        except MetricError as exc:
            exc.path, exc.column, exc.rows = path, "指标", [row]
            problems.append(exc)
            out.append(None)
    return out


# --------------------------------------------------------------------------------------------------
# The three-effect review [S0]


@dataclass
class ThreeEffect:
    """三效评估 [S0] of a week: efficiency from its board, effect from its targets, benefit from its costs."""

    week: Week
    board: Board | None
    board_path: Path | None
    tasks: int = 0  # readable tasks on the board
    due: int = 0
    on_time: int = 0
    late: int = 0  # done after the deadline
    overdue: int = 0  # due, not done
    counts: dict = field(default_factory=dict)  # status -> tasks
    met: int = 0
    judged: int = 0
    benefit: Benefit | None = None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def attainment(self) -> float | None:
        return self.met / self.judged if self.judged else None

    def _rows(self, lang: str) -> list[dict]:
        """The measures the review has numbers for: value, what it is compared with, the change, a note.

        A measure without data (no board yet, no target, satisfaction, which no export holds) is not a
        row of "no data": `finding` says once what was not reviewed and why."""
        rows = []
        if self.board is not None and self.tasks:
            counts = i18n.pick(lang, "，".join(f"{STATUS_WORDS[s][0]}{self.counts.get(s, 0)}项" for s in STATUS_WORDS),
                               ", ".join(f"{self.counts.get(s, 0)} {STATUS_WORDS[s][1]}" for s in STATUS_WORDS))
            due = (i18n.pick(lang, f"到期{self.due}项，按时完成{self.on_time}项", f"{self.on_time} of {self.due} due done on time")
                   if self.due else i18n.pick(lang, "本周无到期任务", "none due this week"))
            rows.append({"dimension": ("效率", "Efficiency"), "measure": ("任务按时完成率", "Tasks done on time"),
                         "value": self.on_time_rate, "kind": "percent",
                         "note": i18n.pick(lang, f"看板{self.tasks}项：{counts}；{due}；到期后才完成{self.late}项，"
                                                 f"逾期未完成{self.overdue}项",
                                           f"{i18n.counted(self.tasks, 'task')} on the board: {counts}; {due}; "
                                           f"{self.late} done late, {self.overdue} overdue")})
        if self.judged:
            rows.append({"dimension": ("效果", "Effect"), "measure": ("目标达成率", "Targets met"),
                         "value": self.attainment, "kind": "percent",
                         "note": i18n.pick(lang, f"已有结果的{self.judged}项目标中达标{self.met}项（暂计且未达标的不计）",
                                           f"{self.met} of the {i18n.counted(self.judged, 'target')} whose outcome "
                                           f"is known (provisional ones not yet met are left out)")})
        b = self.benefit
        if b is not None and b.cost_per_patient is not None:
            measure = ("单客成本", "Cost per patient") if b.basis != "acquisition" else \
                ("获客成本（无成本表）", "Cost per new patient (no costs table)")
            rows.append({"dimension": ("效益", "Benefit"), "measure": measure, "value": b.cost_per_patient,
                         "kind": "money", "before": b.cost_per_patient_before, "change": b.cost_change,
                         "change_kind": "change",
                         "note": i18n.pick(lang, "本周成本（月度成本按天摊）÷ 本周到诊患者",
                                           "the week's costs (each month's spread by day) / patients seen")})
        if b is not None and b.high_value_margin is not None:
            rows.append({"dimension": ("效益", "Benefit"),
                         "measure": (f"高值项目利润率（近{MARGIN_WEEKS}周）", f"High-value margin ({MARGIN_WEEKS} weeks)"),
                         "value": b.high_value_margin, "kind": "percent", "before": b.high_value_margin_before,
                         "change": b.margin_change, "change_kind": "points",
                         "note": i18n.pick(lang, f"按{MARGIN_WEEKS}周计：加工费和耗材按月记账，一周的高值收入会让利润率大起大落",
                                           f"over {MARGIN_WEEKS} weeks: lab fees and consumables are booked by the "
                                           f"month, and one week's high-value revenue would swing it")})
        return rows

    def _labels(self, lang: str) -> list[str]:
        return [i18n.pick(lang, zh, en) for zh, en in (
            ("维度", "Dimension"), ("指标", "Measure"), ("本周", "This week"), ("之前4周", "The 4 weeks before"),
            ("变化", "Change"), ("说明", "Notes"))]

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        def number(value, kind):
            if value is None or pd.isna(value):
                return "—"
            return i18n.rate(value, lang) if kind == "percent" else i18n.money(value, lang)

        rows = self._rows(lang)
        return pd.DataFrame([[i18n.pick(lang, *r["dimension"]), i18n.pick(lang, *r["measure"]),
                              number(r["value"], r["kind"]), number(r.get("before"), r["kind"]),
                              change_text(r.get("change"), "rate" if r.get("change_kind") == "points" else "yuan", lang),
                              r["note"]] for r in rows], columns=self._labels(lang))

    def sheet(self, lang: str = "zh"):
        """The review with its numbers as numbers (a rate's change in points), formatted per row."""
        rows = self._rows(lang)
        labels = self._labels(lang)
        frame = pd.DataFrame([[i18n.pick(lang, *r["dimension"]), i18n.pick(lang, *r["measure"]), r["value"],
                               r.get("before"), None if r.get("change") is None else
                               r["change"] * (100 if r.get("change_kind") == "points" else 1), r["note"]]
                              for r in rows], columns=labels)
        kinds = [r["kind"] for r in rows]
        return Sheet(i18n.pick(lang, "三效评估", "Three-effect review"), frame,
                     formats={labels[2]: kinds, labels[3]: kinds, labels[4]: [r.get("change_kind") for r in rows]},
                     note=i18n.pick(lang, f"{self.week.text('zh')}：效率、效果、效益 [S0]；{self.unreviewed('zh')}",
                                    f"{self.week.text('en')}: efficiency, effect, benefit [S0]; "
                                    f"{self.unreviewed('en')}"))

    def unreviewed(self, lang: str = "zh") -> str:
        """What the review could not measure this week, and why, in one clause."""
        missing = []
        if self.board is None:
            missing.append(i18n.pick(lang, f"任务按时完成率（还没有上周的任务看板：从本周起每天更新本数据包的 {BOARD_NAME}，"
                                           f"下周即可评估）", f"tasks on time (no board from last week: keep this pack's "
                                           f"{BOARD_NAME} up to date daily and next week's pack reviews it)"))
        elif not self.tasks:
            missing.append(i18n.pick(lang, "任务按时完成率（上周的看板上没有任务）", "tasks on time (last week's board had none)"))
        if not self.judged:
            missing.append(i18n.pick(lang, "目标达成率（本周没有已有结果的目标）", "targets met (no target with a known outcome)"))
        missing.append(i18n.pick(lang, "客户满意度（导出数据中没有满意度调查，请另行收集）",
                                 "patient satisfaction (no export holds a survey: collect one separately)"))
        return i18n.pick(lang, "本次未评估：" + "、".join(missing), "not reviewed: " + ", ".join(missing))

    def finding(self, lang: str = "zh") -> str:
        if self.board is None:
            head = ""  # the clause on what was not reviewed says it
        elif not self.tasks:
            head = i18n.pick(lang, "上周的任务看板上没有任务：会上按SMART原则认领任务并写进看板，下周才能评估执行效率。",
                             "Last week's task board had no task: assign SMART tasks at the meeting and write them on "
                             "the board, so that next week can review them.")
        elif self.due:
            head = i18n.pick(lang, f"本周到期的{self.due}项任务按时完成{self.on_time}项（{i18n.rate(self.on_time_rate)}）"
                                   + (f"，逾期未完成{self.overdue}项：会上说明原因并重新约定完成日期。" if self.overdue else "。"),
                             f"{self.on_time} of the {i18n.counted(self.due, 'task')} due this week "
                             f"{i18n.plural(self.on_time, 'was', 'were')} done on time ({i18n.rate(self.on_time_rate, 'en')})"
                             + (f"; {self.overdue} {i18n.plural(self.overdue, 'is', 'are')} overdue: explain why at "
                                f"the meeting and agree a new date." if self.overdue else "."))
        else:
            head = i18n.pick(lang, f"看板上{self.tasks}项任务本周都未到期。",
                             f"None of the {i18n.counted(self.tasks, 'task')} on the board was due this week.")
        tail = ""
        if self.judged:
            tail = i18n.pick(lang, f"目标达成{self.met}/{self.judged}。", f" {self.met} of {self.judged} targets were met.")
        b = self.benefit
        if b is not None and b.cost_change is not None and b.cost_change > 0.05:
            tail += i18n.pick(lang, f"单客成本比前4周上升{b.cost_change * 100:.0f}%：检查本周的投放和人工安排。",
                              f" Cost per patient rose {b.cost_change * 100:.0f}% on the 4 weeks before: check this "
                              f"week's spend and staffing.")
        if b is not None and b.margin_change is not None and b.margin_change <= -MARGIN_ALERT:
            tail += i18n.pick(lang, f"高值项目利润率（近{MARGIN_WEEKS}周）比之前{MARGIN_WEEKS}周低"
                                    f"{-b.margin_change * 100:.1f}个百分点：检查加工费单价、返工和高值项目的折扣。",
                              f" The high-value margin of the last {MARGIN_WEEKS} weeks is "
                              f"{-b.margin_change * 100:.1f} points below the {MARGIN_WEEKS} weeks before: check lab "
                              f"prices, remakes and discounts on high-value cases.")
        rest = self.unreviewed(lang)
        return (head + tail + i18n.pick(lang, f"{rest}。", f" {rest[0].upper()}{rest[1:]}.")).strip()


def three_effect(board: Board | None, progress: TargetProgress, benefit: Benefit | None, week: Week, *,
                 board_path: Path | None = None) -> ThreeEffect:
    """The three-effect review of ``week`` [S0] from its board (None when there is none), its target
    progress and its benefit numbers (see the module docstring for the definitions)."""
    review = ThreeEffect(week, board, board_path if board is None else board.path, benefit=benefit)
    p = progress.table
    if progress.has_targets and len(p):
        known = p[p["status"].notna() & (~p["provisional"] | (p["status"] == GREEN))]
        review.met, review.judged = int((known["status"] == GREEN).sum()), len(known)
    if board is None:
        return review
    t = board.table[board.table["status"] != INVALID]
    review.tasks = len(t)
    review.counts = {s: int((t["status"] == s).sum()) for s in STATUS_WORDS}
    deadline = pd.to_datetime(t["deadline"])
    due = t[deadline.notna() & (deadline <= pd.Timestamp(week.end))]
    done = due["status"] == GREEN
    finished = pd.to_datetime(due["done_on"])
    late = done & finished.notna() & (finished > pd.to_datetime(due["deadline"]))
    review.due = len(due)
    review.on_time = int((done & ~late).sum())
    review.late = int(late.sum())
    review.overdue = int((~done).sum())
    return review
