"""The shared pieces of the portal's verifiable documents (备案凭证, 参保证明):
a number and a verification code drawn at random, a signature over the facts
as issued, a QR code of the public verification link, and a PDF frame (CJK
font, heading, labelled lines, tables, the code and QR on the first page,
page breaks).

Anyone holding a document's code can verify it on a public page; the code is
12 characters of an alphabet without look-alikes (no 0/O, 1/I), so a person
can read it off paper and type it."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
FONT = "STSong-Light"

T = TypeVar("T")


def verification_code_new() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def document_number_new(prefix: str) -> str:
    """`prefix` + today's date + 10 random digits: not guessable from another's."""
    return f"{prefix}{timezone.localdate():%Y%m%d}{secrets.randbelow(10**10):010d}"


def verification_code_normalise(value) -> str:
    """The code as stored, from what a person typed (spaces and dashes dropped,
    upper case); "" when it cannot be a code, so no query is made for it."""
    code = "".join(str(value or "").split()).replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return ""
    return code


def create_unique(make: Callable[[], T], *, attempts: int = 5) -> T:
    """Call `make()` (which draws fresh numbers and saves a row) until no unique
    number or code collides. Each try runs in a savepoint, so a collision
    leaves the caller's transaction usable."""
    for _attempt in range(attempts):
        try:
            with transaction.atomic():
                return make()
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique document number and code")


def signature(salt: str, content: str) -> str:
    """An HMAC of the document's content under the site's secret: a copy whose
    figures were changed no longer matches what the verification page shows."""
    return salted_hmac(salt, content, algorithm="sha256").hexdigest()[:32]


def qr_png(url: str) -> io.BytesIO:
    import qrcode

    png = io.BytesIO()
    qrcode.make(url).save(png)
    png.seek(0)
    return png


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


class PdfDocument:
    """An A4 document written top to bottom: a heading, the verification code
    and QR code at the top right of the first page, then lines and tables,
    continued on a new page when one is full; a footer on every page.

        doc = PdfDocument(title=..., heading=..., code=..., verify_url=...,
                          footer=...)
        doc.line("姓名", "张三")
        doc.table(["年度", "险种"], [["2026", "城乡居民医保"]], widths=[30, 60])
        pdf_bytes = doc.finish()
    """

    MARGIN_MM = 18
    LINE_MM = 7.0

    def __init__(
        self,
        *,
        title: str,
        heading: str,
        code: str,
        verify_url: str,
        code_label: str,
        qr_caption: str,
        footer: str = "",
    ):
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.pdfgen import canvas

        self._mm = mm
        self.buffer = io.BytesIO()
        self.width, self.height = A4
        self.pdf = canvas.Canvas(self.buffer, pagesize=A4)
        self.pdf.setTitle(title)
        self.font = _font()
        self.footer = footer
        self.left = self.MARGIN_MM * mm
        self.right = self.width - self.MARGIN_MM * mm
        self.pdf.setFont(self.font, 18)
        self.pdf.drawString(self.left, self.height - 22 * mm, heading)
        self._qr(verify_url, code=code, code_label=code_label, caption=qr_caption)
        self.y = self.height - 34 * mm
        # Lines beside the QR code stop short of it.
        self.qr_bottom = self.height - 72 * mm

    def _qr(self, url: str, *, code: str, code_label: str, caption: str) -> None:
        from reportlab.lib.utils import ImageReader

        mm = self._mm
        size = 36 * mm
        x = self.right - size
        self.pdf.drawImage(
            ImageReader(qr_png(url)), x, self.height - 66 * mm, size, size
        )
        self.pdf.setFont(self.font, 9)
        self.pdf.drawRightString(self.right, self.height - 70 * mm, caption)
        self.pdf.setFont(self.font, 10)
        self.pdf.drawRightString(
            self.right, self.height - 28 * mm, f"{code_label}：{code}"
        )

    def _text_right(self) -> float:
        mm = self._mm
        return self.right - 40 * mm if self.y > self.qr_bottom else self.right

    def _ensure(self, height: float) -> None:
        if self.y - height < (self.MARGIN_MM + 8) * self._mm:
            self._footer()
            self.pdf.showPage()
            self.y = self.height - self.MARGIN_MM * self._mm

    def _footer(self) -> None:
        if not self.footer:
            return
        self.pdf.setFont(self.font, 8)
        self.pdf.drawString(self.left, (self.MARGIN_MM - 6) * self._mm, self.footer)

    def _wrap(self, text: str, width: float, size: float) -> list[str]:
        """Lines of `text` no wider than `width` (CJK text breaks anywhere)."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        lines, current = [], ""
        for char in str(text):
            if stringWidth(current + char, self.font, size) > width and current:
                lines.append(current)
                current = char
            else:
                current += char
        return [*lines, current]

    def section(self, title: str) -> None:
        self._ensure(12 * self._mm)
        self.y -= 3 * self._mm
        self.pdf.setFont(self.font, 13)
        self.pdf.drawString(self.left, self.y, title)
        self.y -= self.LINE_MM * self._mm

    def line(self, label: str, value, *, size: float = 11) -> None:
        lines = self._wrap(f"{label}：{value}", self._text_right() - self.left, size)
        for text in lines:
            self._ensure(self.LINE_MM * self._mm)
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(self.left, self.y, text)
            self.y -= self.LINE_MM * self._mm

    def paragraph(self, text: str, *, size: float = 10) -> None:
        for line in self._wrap(text, self._text_right() - self.left, size):
            self._ensure(6 * self._mm)
            self.pdf.setFont(self.font, size)
            self.pdf.drawString(self.left, self.y, line)
            self.y -= 6 * self._mm

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence],
        *,
        widths: Sequence[float],
        size: float = 9.5,
    ) -> None:
        """Columns of `widths` millimetres; the header again on each new page."""
        mm = self._mm
        row_height = 6.2 * mm
        if self.y > self.qr_bottom:
            self.y = self.qr_bottom - 2 * mm

        def draw(cells, *, bold: bool = False) -> None:
            self._ensure(row_height)
            self.pdf.setFont(self.font, size + (0.5 if bold else 0))
            x = self.left
            for cell, width in zip(cells, widths, strict=False):
                text = self._wrap(str(cell), width * mm - 2 * mm, size)[0]
                self.pdf.drawString(x, self.y, text)
                x += width * mm
            self.pdf.line(
                self.left,
                self.y - 1.6 * mm,
                self.left + sum(widths) * mm,
                self.y - 1.6 * mm,
            )
            self.y -= row_height

        draw(headers, bold=True)
        top = self.pdf.getPageNumber()
        for cells in rows:
            if self.y - row_height < (self.MARGIN_MM + 8) * mm:
                self._ensure(row_height)
            if self.pdf.getPageNumber() != top:
                top = self.pdf.getPageNumber()
                draw(headers, bold=True)
            draw(cells)
        self.y -= 2 * mm

    def finish(self) -> bytes:
        self._footer()
        self.pdf.showPage()
        self.pdf.save()
        return self.buffer.getvalue()
