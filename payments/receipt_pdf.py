"""电子缴费凭证 as a PDF (reportlab), with a QR code of the public verification link."""

import io

import qrcode
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from core.money import format_yuan

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render(receipt, *, verify_url: str) -> bytes:
    buffer = io.BytesIO()
    width, height = landscape(A5)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"{_('电子缴费凭证')} {receipt.number}")
    font = _font()
    pdf.setFont(font, 18)
    pdf.drawString(20 * mm, height - 20 * mm, _("基本医疗保险电子缴费凭证"))
    rows = [
        (_("凭证号"), receipt.number),
        (_("缴费人"), receipt.payer_name),
        (_("参保人"), f"{receipt.insured_name}（{receipt.insured_id_masked}）"),
        (_("险种"), receipt.scheme),
        (_("参保地"), receipt.region_display),
        (_("缴费期间"), receipt.period),
        (_("金额"), format_yuan(receipt.amount)),
        (_("缴费渠道"), receipt.channel),
        (_("交易号"), receipt.transaction_id),
        (
            _("缴费时间"),
            timezone.localtime(receipt.paid_at).strftime("%Y-%m-%d %H:%M:%S"),
        ),
        (_("验证码"), receipt.verification_code),
    ]
    pdf.setFont(font, 11)
    y = height - 34 * mm
    for label, value in rows:
        pdf.drawString(20 * mm, y, f"{label}：{value}")
        y -= 7.5 * mm
    png = io.BytesIO()
    qrcode.make(verify_url).save(png)
    png.seek(0)
    pdf.drawImage(ImageReader(png), width - 62 * mm, height - 80 * mm, 45 * mm, 45 * mm)
    pdf.setFont(font, 9)
    pdf.drawString(width - 66 * mm, height - 86 * mm, _("扫码或凭验证码在线核验"))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
