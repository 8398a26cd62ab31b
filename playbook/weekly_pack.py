"""The weekly review pack's files: a workbook, the coming week's task board, and the pages as HTML and PDF.

`build_weekly` computes the pack (`playbook.weekly.weekly_pack`), reviews the week's own task board
(`playbook.taskboard`) and writes ``OUT/<clinic_id>/weekly/<week>/``: ``weekly.xlsx`` (one sheet a
table, for the owner and the front desk who live in Excel), ``taskboard.xlsx`` (the coming week's
board), ``weekly.html`` and ``weekly.pdf`` through the client report's exporters (`playbook.report`).

The pages are built in this process as a notebook of outputs, with no kernel: a front desk runs the
pack every Monday, and a papermill kernel would cost more than the rest of the pack (measured: about
4 s to start one and import the stack and the clinic again, against 6-7 s for the whole pack).
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import io
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .nbstack import nbformat  # before the other Jupyter packages: see playbook.nbstack

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from . import i18n, plotting, taskboard  # noqa: E402
from .clinic import Clinic, load_clinic  # noqa: E402
from .cohorts import ACTION_SEGMENTS, ACTIONS, SEGMENTS  # noqa: E402
from .errors import PlaybookError, ReportBuildError  # noqa: E402
from .report import ReportMeta, build_html, build_pdf  # noqa: E402
from .results import GREEN, RED, YELLOW  # noqa: E402
from .schema import MINIMAL_TABLES  # noqa: E402
from .weekly import Week, WeeklyPack, behind, status_cell, status_values, weekly_pack  # noqa: E402
from .workbook import FILLS, Sheet, write_workbook  # noqa: E402

__all__ = ["WeeklyFiles", "build_weekly"]


@dataclass
class WeeklyFiles:
    """What `build_weekly` wrote, what it found wrong, and how long each stage took (seconds)."""

    folder: Path
    week: Week
    workbook: Path | None = None
    board: Path | None = None
    board_kept: bool = False  # the coming week's board was there and edited since it was written: left as it is
    html: Path | None = None
    pdf: Path | None = None
    problems: list[PlaybookError] = field(default_factory=list)
    error: PlaybookError | None = None  # a stage that failed after the ones before it were written
    timings: dict[str, float] = field(default_factory=dict)


def build_weekly(clinic_dir: Path | str, out_root: Path | str, week: Week | str | None = None, *,
                 board: Path | str | None = None, lang: str | None = None,
                 tasks: pd.DataFrame | None = None) -> WeeklyFiles:
    """Write the weekly pack of ``week`` to ``out_root/<clinic_id>/weekly/<week>/``.

    Files: ``weekly.xlsx`` (one sheet a table), ``taskboard.xlsx`` (the coming week's task board; once
    the clinic has saved it, a rebuild leaves it as it is), ``weekly.html`` and ``weekly.pdf``. The review of
    the week's own board reads ``board``, by default the board the previous week's pack wrote
    (``<week − 1>/taskboard.xlsx``). Input problems that leave the rest usable (the targets table, the
    board) are returned in ``problems``; a stage that fails keeps what was written before it.
    """
    tick = time.perf_counter()
    clinic = load_clinic(clinic_dir, strict=False)
    _raise_for_errors(clinic)
    pack = weekly_pack(clinic, week, tasks=tasks, lang=lang)
    timings = {"compute": time.perf_counter() - tick}
    folder = Path(out_root).resolve() / clinic.config.clinic_id / "weekly" / pack.week.label
    files = WeeklyFiles(folder, pack.week, problems=list(pack.problems), timings=timings)
    board_path = Path(board) if board else folder.parent / pack.week.shift(-1).label / taskboard.BOARD_NAME
    read = taskboard.read_board(board_path, expected=pack.week) if board_path.exists() else None
    if board and read is None:
        files.problems.append(PlaybookError("the task board given was not found", path=board_path,
                                            fix="give the path of a taskboard.xlsx the weekly pack wrote",
                                            zh="找不到指定的任务看板：请给出数据包生成的 taskboard.xlsx 的路径"))
    if read is not None:
        files.problems += read.problems
    review = taskboard.three_effect(read, pack.progress, pack.benefit, pack.week, board_path=board_path)
    target = folder / taskboard.BOARD_NAME
    files.board_kept = target.exists() and not taskboard.untouched(target)
    if files.board_kept:  # the clinic already keeps the coming week's board: the pack shows theirs
        kept = taskboard.read_board(target, expected=pack.week.shift(1))
        coming = kept.table[taskboard.KEYS]
        files.problems += kept.problems
    else:
        coming = taskboard.board_rows(pack, previous=read)
    tick = time.perf_counter()
    files.workbook = _write_workbook(folder / "weekly.xlsx", pack, review, coming)
    files.board = target if files.board_kept else taskboard.write_board(
        target, coming, pack.week.shift(1), pack.lang, red_line=pack.progress.red_line)
    timings["workbooks"] = time.perf_counter() - tick
    tick = time.perf_counter()
    notebook = _pack_notebook(pack, review, coming, files.problems)
    timings["pages"] = time.perf_counter() - tick
    meta = ReportMeta(clinic_id=clinic.config.clinic_id, clinic_name=clinic.config.name,
                      period_start=pack.week.start, period_end=pack.week.end, lang=pack.lang,
                      consultant=clinic.config.consultant, generated=pack.week.end + dt.timedelta(days=1),
                      title=i18n.pick(pack.lang, f"周会数据包 · {pack.week.year}年第{pack.week.number}周",
                                      f"Weekly review pack · {pack.week.label}"))
    with tempfile.TemporaryDirectory(prefix="playbook-weekly-") as tmp:
        path = Path(tmp) / "weekly.ipynb"
        nbformat.write(notebook, path)
        tick = time.perf_counter()
        files.html = build_html([path], folder, meta, name="weekly")
        timings["html"] = time.perf_counter() - tick
        tick = time.perf_counter()
        try:
            files.pdf = build_pdf([path], folder, meta, name="weekly")
        except ReportBuildError as exc:
            files.error = exc
        timings["pdf"] = time.perf_counter() - tick
    return files


def _raise_for_errors(clinic: Clinic) -> None:
    """Stop on a missing table or a problem in any table but targets (whose problems are reported with
    the pack, which still builds)."""
    if any(not clinic.loads[name].found for name in MINIMAL_TABLES):
        clinic.raise_for_errors()  # names the missing table
    for name, load in clinic.loads.items():
        if name != "targets" and load.errors:
            raise load.errors[0]


def _write_workbook(path: Path, pack: WeeklyPack, review, coming: pd.DataFrame) -> Path:
    lang = pack.lang
    sheets = [pack.progress.sheet(lang)]
    if pack.channels.available:
        sheets.append(pack.channels.sheet(lang))
    if pack.rfm.available:
        sheets.append(_rfm_sheet(pack.rfm, lang))
    if pack.warning.available:
        sheets.append(_warning_sheet(pack.warning, lang))
    sheets.append(pack.trend.sheet(lang))
    sheets.append(review.sheet(lang))
    sheets.append(taskboard.board_sheet(coming, pack.week.shift(1), lang, red_line=pack.progress.red_line))
    return write_workbook(path, sheets)


def _rfm_sheet(rfm, lang: str):
    """The tiers with numbers Excel can add up (the pages print them formatted)."""
    names = {sid: (zh, en) for sid, zh, en in SEGMENTS.values()}
    t = rfm.table[rfm.table["patients"] > 0]
    label = {k: i18n.pick(lang, zh, en) for k, zh, en in (
        ("tier", "客户分层", "Tier"), ("patients", "人数", "Patients"), ("revenue", "近12个月收入", "Revenue, 12 months"),
        ("share", "收入占比", "Share of revenue"), ("recency", "距今天数（中位）", "Days since last visit (median)"),
        ("act", "流失预警", "Churn warning"))}
    frame = pd.DataFrame({label["tier"]: [names[s][0 if lang == "zh" else 1] for s in t.index],
                          label["patients"]: t["patients"].to_numpy(), label["revenue"]: t["revenue"].to_numpy(),
                          label["share"]: t["revenue_share"].to_numpy(), label["recency"]: t["recency_days"].to_numpy(),
                          label["act"]: [status_cell(RED, lang) if s in ACTION_SEGMENTS else None for s in t.index]})
    return Sheet(i18n.pick(lang, "客户分层", "Customer tiers"), frame,
                 formats={label["patients"]: "count", label["revenue"]: "money", label["share"]: "percent",
                          label["recency"]: "count"}, status=label["act"], status_values=status_values(lang),
                 note=i18n.pick(lang, "RFM客户分层，近12个月；红 = 消费高但近期未再来，列入流失预警 [S0]",
                                "RFM tiers over the last 12 months; red = high spenders not seen lately, on the churn "
                                "warning list [S0]"))


def _warning_sheet(warning, lang: str):
    """The whole warning list (the pages show its first rows), names masked at load."""
    t = warning.table
    label = {k: i18n.pick(lang, zh, en) for k, zh, en in (
        ("name", "姓名", "Name"), ("id", "病历号", "Patient ID"), ("last", "最后到诊", "Last visit"),
        ("spend", "近12个月消费", "Spend, 12 months"), ("missed", "逾期次数", "Missed returns"),
        ("doctor", "最后接诊医生", "Last doctor"), ("action", "建议行动", "Action"))}
    frame = pd.DataFrame({label["name"]: t["name"].to_numpy(), label["id"]: t["patient_id"].to_numpy(),
                          label["last"]: t["last_visit"].to_numpy(), label["spend"]: t["spend"].to_numpy(),
                          label["missed"]: t["missed"].to_numpy(), label["doctor"]: t["last_doctor"].to_numpy(),
                          label["action"]: [ACTIONS[w][0 if lang == "zh" else 1] for w in t["why"]]})
    return Sheet(i18n.pick(lang, "流失预警", "Churn warning"), frame,
                 formats={label["last"]: "date", label["spend"]: "money", label["missed"]: "count"},
                 note=i18n.pick(lang, "高价值（A类）客户已超过平时复诊间隔未再来，按消费从高到低 [S0]；姓名、电话已脱敏",
                                "High-value (A-class) patients past their usual return interval, highest spend first "
                                "[S0]; names are masked"))


def _pack_notebook(pack: WeeklyPack, review, coming: pd.DataFrame, problems: list[PlaybookError]):
    """The pack's pages as an executed notebook (outputs only), for the report's HTML and PDF exporters."""
    lang = pack.lang
    plotting.set_theme(lang)
    pages = _Pages(lang)
    w = pack.week
    pages.heading(1, i18n.pick(lang, "目标进度表", "Target progress"))
    line = behind(pack.progress.red_line)
    if pack.progress.has_targets:
        pages.say(i18n.pick(lang, f"{w.text('zh')}的目标与完成情况。偏差率 =（完成 − 目标）/ 目标；红 = 落后超过{line}，"
                                  f"黄 = 落后{line}以内，绿 = 达标 [S0]。成交率、到店率和方案接受率在30天内还会上升，标“暂计”。",
                            f"Targets and actuals of {w.text('en')}. Deviation = (actual − target) / target; red = "
                            f"behind by more than {line}, yellow = behind by less, green = met [S0]. Conversion, "
                            f"arrival rate and plan acceptance still rise for 30 days and are marked 'so far'."))
        pages.table(pack.progress.table_for(lang), status=pack.progress.table["status"].tolist())
    else:
        pages.table(pack.progress.table_for(lang))
    pages.say(pack.progress.finding(lang))

    pages.heading(1, i18n.pick(lang, "渠道效果表", "Channel effect"))
    if pack.channels.available:
        pages.say(pack.channels.note(lang))
        stop = pack.channels.table["stop_loss"].tolist() if pack.channels.has_spend else []
        pages.table(pack.channels.table_for(lang), status=[RED if s else None for s in stop] or None)
    pages.say(pack.channels.finding(lang))

    pages.heading(1, i18n.pick(lang, "客户分层表", "Customer tiers"))
    if pack.rfm.available:
        pages.table(pack.rfm.table_for(lang))
    pages.say(pack.rfm.finding(lang))
    pages.heading(2, i18n.pick(lang, "高价值客户流失预警", "High-value churn warning"))
    if pack.warning.available:
        pages.table(pack.warning.table_for(lang))
    pages.say(pack.warning.finding(lang))

    pages.heading(1, i18n.pick(lang, "近8周趋势", "The last 8 weeks"))
    figure, ax = plt.subplots(figsize=(9, 4.6))
    pack.trend.plot(ax=ax, lang=lang)
    pages.chart(figure)
    pages.say(pack.trend.finding(lang))
    pages.table(pack.trend.table_for(lang), cells=pack.trend.cell_status(lang))
    pages.say(pack.trend.provisional_note[lang])

    pages.heading(1, i18n.pick(lang, "三效评估", "Three-effect review"))
    pages.table(review.table_for(lang))
    pages.say(review.finding(lang))

    coming_week = w.shift(1)
    title = i18n.pick(lang, f"任务看板（{coming_week.year}年第{coming_week.number}周）", f"Task board for {coming_week.label}")
    sentence = taskboard.board_sentence(coming, coming_week, lang, red_line=pack.progress.red_line,
                                        upcoming=_upcoming(pack, coming_week))
    if len(coming):
        pages.heading(1, title)
        pages.say(sentence)
        pages.table(taskboard.board_table(coming, lang), status=coming["status"].tolist())
    else:  # an empty board is a sentence under the review, not a page of its own
        pages.heading(2, title)
        pages.say(sentence)

    if problems:
        pages.heading(1, i18n.pick(lang, "数据问题", "Input problems"))
        pages.say(i18n.pick(lang, "以下问题不影响数据包的其余部分；请按说明改好对应的文件，再重新生成。",
                            "These problems leave the rest of the pack intact; correct the files as described and "
                            "build it again."))
        pages.say("\n".join(f"- {_problem_text(p, lang)}" for p in problems))
    return pages.notebook


def _upcoming(pack: WeeklyPack, week: Week) -> dt.date | None:
    """The day the prescriptions' tasks start, when that is after ``week`` (the plan's start, clinic.yaml)."""
    start = pack.clinic.config.plan_start_day
    return start if start > week.end else None


def _problem_text(problem: PlaybookError, lang: str) -> str:
    if lang != "zh":
        return str(problem).replace("\n  fix:", " Fix:")
    where = getattr(problem, "where", None) or (problem.path.name if problem.path else "")
    rows = f"第{'、'.join(str(r) for r in problem.rows[:5])}行" if problem.rows else ""
    text = problem.zh or "内容无法识别，请按命令行提示修改"
    return f"{where}{rows}：{text}" if where or rows else text


# The workbook's traffic-light fills, so that the xlsx, the HTML and the PDF show one red, yellow, green.
_ROW_FILLS = {status: f"#{FILLS[status].start_color.rgb[-6:]}" for status in (RED, YELLOW, GREEN)}


def _fill(status) -> str:
    return f' style="background-color: {_ROW_FILLS[status]}"' if status in _ROW_FILLS else ""


class _Pages:
    """Builds the pack as a notebook of outputs: headings and sentences, tables, charts."""

    def __init__(self, lang: str):
        self.lang = lang
        self.notebook = nbformat.v4.new_notebook()

    def _output(self, data: dict) -> None:
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
        self.notebook.cells.append(cell)

    def heading(self, level: int, text: str) -> None:
        self.notebook.cells.append(nbformat.v4.new_markdown_cell(f"{'#' * level} {text}"))

    def say(self, text: str) -> None:
        self.notebook.cells.append(nbformat.v4.new_markdown_cell(text))

    def table(self, frame: pd.DataFrame, *, status: Sequence | None = None,
              cells: Sequence[dict] | None = None) -> None:
        """A table as the chapters show one, each row filled with the colour of its ``status`` [S0], and a
        cell with its own in ``cells`` (per row, {column label: status}).

        The fill is the row's or the cell's inline background: the HTML shows it, and the report's Lua
        filter turns it into the Typst fill of each cell, so the PDF shows the same red, yellow and green.
        """
        if frame.empty:
            return
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
        body = []
        for i, row in enumerate(frame.itertuples(index=False)):
            fill = _ROW_FILLS.get(status[i]) if status is not None and i < len(status) else None
            style = f' style="background-color: {fill}"' if fill else ""
            marked = cells[i] if cells is not None and i < len(cells) else {}
            tds = "".join(f"<td{_fill(marked.get(c))}>{html.escape(str(v))}</td>" for c, v in zip(frame.columns, row))
            body.append(f"<tr{style}>{tds}</tr>")
        self._output({"text/html": f'<table border="0" class="dataframe playbook-table"><thead><tr>{head}</tr>'
                                   f'</thead><tbody>{"".join(body)}</tbody></table>'})

    def chart(self, figure) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(figure)
        self._output({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii")})
