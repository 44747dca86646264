"""The monthly disclosure (维修资金使用及结存情况公示) of an estate's fund: CSV and PDF.

The disclosure covers one booking month (``period``, yyyymm): each unit's
opening balance, credits, debits and closing balance, the transactions of the
month with their ledger hashes, and the common parts' income and expenses. The
PDF uses reportlab's built-in CID font STSong-Light, so Chinese renders without
any font file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from wuye.ledger.fund.models import (
    COMMON_LABELS,
    ENTRY_LABELS,
    CommonPartRecord,
    FundAccount,
    FundEntry,
    FundMovement,
)
from wuye.platform.estates.models import Building, Unit
from wuye.platform.estates.service import get_estate

__all__ = ["Disclosure", "build", "to_csv", "to_pdf"]

CSV_HEADER = (
    "unit_id",
    "building",
    "unit",
    "area_m2",
    "opening_fen",
    "credits_fen",
    "debits_fen",
    "closing_fen",
)


@dataclass
class UnitLine:
    unit_id: str
    building: str
    number: str
    area_hundredths: int
    opening_fen: int
    credits_fen: int
    debits_fen: int

    @property
    def closing_fen(self) -> int:
        return self.opening_fen + self.credits_fen - self.debits_fen


@dataclass
class Disclosure:
    estate_id: str
    estate_name: str
    period: int
    units: list[UnitLine]
    entries: list[FundEntry]
    common: list[CommonPartRecord]
    generated_at: datetime

    def total(self, field: str) -> int:
        return sum(getattr(u, field) for u in self.units)


def _check_period(period: int) -> None:
    if not (190001 <= period <= 999912 and 1 <= period % 100 <= 12):
        raise ValueError("period must be yyyymm")


def build(*, session: Session, estate_id: str, period: int) -> Disclosure:
    """Gather one month's disclosure from the mirror (reconcile it first to trust it)."""
    _check_period(period)
    estate = get_estate(session=session, estate_id=estate_id)
    rows = session.execute(
        select(
            FundAccount.unit_id,
            Building.name,
            Unit.number,
            FundAccount.area_hundredths,
            func.coalesce(
                func.sum(case((FundMovement.period < period, FundMovement.amount_fen), else_=0)), 0
            ),
            func.coalesce(
                func.sum(
                    case(
                        (
                            (FundMovement.period == period) & (FundMovement.amount_fen > 0),
                            FundMovement.amount_fen,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    case(
                        (
                            (FundMovement.period == period) & (FundMovement.amount_fen < 0),
                            -FundMovement.amount_fen,
                        ),
                        else_=0,
                    )
                ),
                0,
            ),
        )
        .join(Unit, Unit.id == FundAccount.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .outerjoin(FundMovement, FundMovement.unit_id == FundAccount.unit_id)
        .where(FundAccount.estate_id == estate.id)
        .group_by(FundAccount.unit_id, Building.name, Unit.number, FundAccount.area_hundredths)
        .order_by(Building.name, Unit.number)
    ).all()
    units = [UnitLine(r[0], r[1], r[2], int(r[3]), int(r[4]), int(r[5]), int(r[6])) for r in rows]
    entries = list(
        session.scalars(
            select(FundEntry)
            .where(FundEntry.estate_id == estate.id, FundEntry.period == period)
            .order_by(FundEntry.block_number)
        )
    )
    common = list(
        session.scalars(
            select(CommonPartRecord)
            .where(CommonPartRecord.estate_id == estate.id, CommonPartRecord.period == period)
            .order_by(CommonPartRecord.block_number)
        )
    )
    return Disclosure(estate.id, estate.name, period, units, entries, common, datetime.now(UTC))


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def to_csv(disclosure: Disclosure) -> str:
    """One line per unit, then a TOTAL line; amounts in fen, areas in m²."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for u in disclosure.units:
        writer.writerow(
            (
                u.unit_id,
                u.building,
                u.number,
                f"{u.area_hundredths / 100:.2f}",
                u.opening_fen,
                u.credits_fen,
                u.debits_fen,
                u.closing_fen,
            )
        )
    writer.writerow(
        (
            "TOTAL",
            "",
            "",
            f"{disclosure.total('area_hundredths') / 100:.2f}",
            disclosure.total("opening_fen"),
            disclosure.total("credits_fen"),
            disclosure.total("debits_fen"),
            disclosure.total("closing_fen"),
        )
    )
    return out.getvalue()


def to_pdf(disclosure: Disclosure) -> bytes:
    """The disclosure as a printable PDF (A4), Chinese first."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    title = ParagraphStyle("t", fontName=font, fontSize=15, leading=20)
    body = ParagraphStyle("b", fontName=font, fontSize=9, leading=13)
    head = ParagraphStyle("h", fontName=font, fontSize=11, leading=16, spaceBefore=6)
    period = f"{disclosure.period // 100}年{disclosure.period % 100:02d}月"
    story = [
        Paragraph(f"{disclosure.estate_name} 专项维修资金使用及结存情况公示（{period}）", title),
        Paragraph(
            f"Maintenance fund disclosure, period {disclosure.period}. "
            f"生成时间 generated {disclosure.generated_at:%Y-%m-%d %H:%M} UTC。"
            "金额单位：元 / amounts in yuan. 每笔收支均为区块链账本交易，可凭交易哈希核验。",
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph("一、结存汇总 / Summary", head),
    ]

    def table(data: list[list[str]], widths: list[float]) -> Table:
        t = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ]
            )
        )
        return t

    d = disclosure
    story.append(
        table(
            [
                ["期初结存 opening", "本期收入 in", "本期支出 out", "期末结存 closing"],
                [
                    _yuan(d.total("opening_fen")),
                    _yuan(d.total("credits_fen")),
                    _yuan(d.total("debits_fen")),
                    _yuan(d.total("closing_fen")),
                ],
            ],
            [42, 42, 42, 42],
        )
    )
    story.append(Paragraph("二、本期交易 / Transactions", head))
    rows = [["类别 kind", "说明 memo", "户数 units", "金额 amount", "交易哈希 tx"]]
    for e in d.entries:
        sign = 1 if e.kind.inflow else -1
        rows.append(
            [
                ENTRY_LABELS[e.kind][0],
                Paragraph(e.memo, body),
                str(e.units),
                _yuan(sign * e.amount_fen),
                e.tx_hash[:18] + "…",
            ]
        )
    if len(rows) == 1:
        rows.append(["—", "本期无交易 / none", "", "", ""])
    story.append(table(rows, [30, 50, 16, 28, 46]))
    story.append(Paragraph("三、共有部分经营收支 / Common parts", head))
    rows = [["类别 category", "收支 in/out", "金额 amount", "说明 memo"]]
    for c in d.common:
        rows.append(
            [
                COMMON_LABELS[c.category][0],
                "收入 income" if c.income else "支出 expense",
                _yuan(c.amount_fen),
                Paragraph(c.description, body),
            ]
        )
    if len(rows) == 1:
        rows.append(["—", "", "", "本期无记录 / none"])
    story.append(table(rows, [30, 30, 30, 80]))
    story.append(Paragraph("四、分户账 / Unit accounts", head))
    rows = [["楼栋 bldg", "房号 unit", "面积 m²", "期初", "收入", "支出", "期末"]]
    for u in d.units:
        rows.append(
            [
                u.building,
                u.number,
                f"{u.area_hundredths / 100:.2f}",
                _yuan(u.opening_fen),
                _yuan(u.credits_fen),
                _yuan(u.debits_fen),
                _yuan(u.closing_fen),
            ]
        )
    rows.append(
        [
            "合计 total",
            "",
            f"{d.total('area_hundredths') / 100:.2f}",
            _yuan(d.total("opening_fen")),
            _yuan(d.total("credits_fen")),
            _yuan(d.total("debits_fen")),
            _yuan(d.total("closing_fen")),
        ]
    )
    story.append(table(rows, [22, 18, 20, 28, 26, 26, 28]))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{d.estate_name} 维修资金公示 {d.period}",
        author="wuye",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    doc.build(story)
    return out.getvalue()
