"""《参保人员基本医疗保险信息表》 as a PDF (reportlab), signed like the receipt:
a verification code, the signature over the fields as issued, and a QR code of
the public verification page. Every field SPEC §8 lists; the identity number
masked."""

from __future__ import annotations

import io
from html import escape

import qrcode
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core.money import format_yuan

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _date(day) -> str:
    return date_format(day, "DATE_FORMAT") if day else "—"


def _grid(rows, widths, font, *, header=False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), font, 10),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")))
    else:
        style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e9ecef")))
    table.setStyle(TableStyle(style))
    return table


def render(transfer, *, verify_url: str) -> bytes:
    sheet = transfer.sheet
    font = _font()
    title = _("参保人员基本医疗保险信息表")
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} {sheet.number}",
    )
    heading = ParagraphStyle("heading", fontName=font, fontSize=16, leading=22)
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    small = ParagraphStyle("small", fontName=font, fontSize=8.5, leading=12)
    issued = timezone.localtime(sheet.issued_at).strftime("%Y-%m-%d %H:%M")
    fields = [
        (_("编号"), sheet.number),
        (_("出具时间"), issued),
        (_("姓名"), sheet.name),
        (_("公民身份号码"), sheet.id_masked),
        (_("险种"), sheet.scheme_label),
        (
            _("转出地区划代码"),
            f"{sheet.outgoing_region_code}（{transfer.outgoing_region.display_name}）",
        ),
        (
            _("转入地区划代码"),
            f"{sheet.incoming_region_code}（{transfer.incoming_region.display_name}）",
        ),
        (_("参保开始日期"), _date(sheet.enrollment_start)),
        (_("暂停参保日期"), _date(sheet.suspended_on)),
        (_("实际缴费月数"), str(sheet.actual_months)),
        (_("视同缴费月数"), str(sheet.deemed_months)),
        (_("个人账户余额（转出）"), format_yuan(sheet.account_balance)),
    ]
    history = [[_("年度"), _("险种"), _("状态"), _("待遇期")]] + [
        [
            str(row.get("year", "")),
            row.get("scheme", ""),
            row.get("status", ""),
            f"{row.get('coverage_start') or '—'} ~ {row.get('coverage_end') or '—'}",
        ]
        for row in sheet.contribution_history
    ]
    if len(history) == 1:
        history.append([_("无记录"), "", "", ""])
    png = io.BytesIO()
    qrcode.make(verify_url).save(png)
    png.seek(0)
    signed = Table(
        [
            [
                [
                    Paragraph(f"{_('验证码')}：{sheet.verification_code}", body),
                    Paragraph(f"{_('电子签名')}：{sheet.signature}", small),
                    Spacer(1, 2 * mm),
                    Paragraph(
                        _(
                            "扫描二维码或在医保网上服务大厅“信息表核验”页面输入验证码，可核验本表内容。"
                        ),
                        small,
                    ),
                    Paragraph(escape(verify_url), small),
                ],
                Image(png, width=32 * mm, height=32 * mm),
            ]
        ],
        colWidths=[138 * mm, 36 * mm],
    )
    signed.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [
        Paragraph(f"《{title}》", heading),
        Spacer(1, 4 * mm),
        _grid(
            [[label, Paragraph(escape(value), body)] for label, value in fields],
            [48 * mm, 126 * mm],
            font,
        ),
        Spacer(1, 5 * mm),
        Paragraph(_("参保缴费记录"), body),
        Spacer(1, 2 * mm),
        _grid(history, [22 * mm, 46 * mm, 40 * mm, 66 * mm], font, header=True),
        Spacer(1, 5 * mm),
        Paragraph(
            _("本表由转出地医疗保障经办机构出具，供转入地办理医保关系转移接续使用。"),
            body,
        ),
        Spacer(1, 4 * mm),
        signed,
    ]
    doc.build(story)
    return buffer.getvalue()
