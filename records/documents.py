"""The records app's two verifiable documents as PDFs (on core.documents'
frame): the filing certificate (异地就医备案凭证) and the certificate of
insurance (参保证明); and the certificate's stored facts as lines to show."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.documents import PdfDocument
from core.places import region_names, with_code
from enrollment.models import EnrollmentStatus, Scheme

from .models import Evidence, Filing, FilingKind, InsuranceCertificate


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _date(value: str | dt.date | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return date_format(value, "DATE_FORMAT")


def months_text(months: int) -> str:
    """36 → "3年", 40 → "3年4个月", 4 → "4个月"."""
    years, rest = divmod(max(months, 0), 12)
    year_text = ngettext("%(years)d年", "%(years)d年", years) % {"years": years}
    month_text = ngettext("%(months)d个月", "%(months)d个月", rest) % {"months": rest}
    if years and rest:
        return _("%(years)s%(months)s") % {"years": year_text, "months": month_text}
    return year_text if years else month_text


# --- 参保证明: the stored facts as lines ---------------------------------------------


@dataclass(frozen=True)
class PeriodLine:
    year: int
    scheme: str
    region: str
    status: str
    start: str
    end: str


@dataclass(frozen=True)
class MonthsLine:
    region: str
    actual: int
    deemed: int

    @property
    def total(self) -> int:
        return self.actual + self.deemed


@dataclass(frozen=True)
class FactsView:
    as_of: str
    name: str
    id_masked: str
    covered_today: bool
    schemes: list[str]
    periods: list[PeriodLine]
    months: list[MonthsLine]
    total_actual: int
    total_deemed: int

    @property
    def total(self) -> int:
        return self.total_actual + self.total_deemed


def facts_view(facts: dict) -> FactsView:
    """The facts a 参保证明 certified, with codes as labels in the reader's
    language (regions too: as certified in Chinese, one query in English)."""
    lines = [*facts.get("periods", []), *facts.get("months", [])]
    names = region_names(line["region_code"] for line in lines)

    def region(line: dict) -> str:
        code = line["region_code"]
        return with_code(names.get(code, line["region_name"]), code)

    return FactsView(
        as_of=_date(facts.get("as_of")),
        name=facts.get("name", ""),
        id_masked=facts.get("id_masked", ""),
        covered_today=bool(facts.get("covered_today")),
        schemes=[_label(Scheme, code) for code in facts.get("schemes", [])],
        periods=[
            PeriodLine(
                year=p["year"],
                scheme=_label(Scheme, p["scheme"]),
                region=region(p),
                status=_label(EnrollmentStatus, p["status"]),
                start=_date(p["start"]),
                end=_date(p["end"]),
            )
            for p in facts.get("periods", [])
        ],
        months=[
            MonthsLine(
                region=region(m),
                actual=m["actual"],
                deemed=m["deemed"],
            )
            for m in facts.get("months", [])
        ],
        total_actual=facts.get("total_actual", 0),
        total_deemed=facts.get("total_deemed", 0),
    )


def mask_name(name: str) -> str:
    """张三丰 → 张**: enough to recognise one's own document, not a stranger."""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name


def certificate_pdf(certificate: InsuranceCertificate, *, verify_url: str) -> bytes:
    facts = facts_view(certificate.facts)
    doc = PdfDocument(
        title=f"{_('参保证明')} {certificate.number}",
        heading=_("基本医疗保险参保证明"),
        code=certificate.verification_code,
        verify_url=verify_url,
        code_label=_("验证码"),
        qr_caption=_("扫码或凭验证码在线核验"),
        footer=_("证明编号 %(number)s，验证码 %(code)s，核验：%(url)s")
        % {
            "number": certificate.number,
            "code": certificate.verification_code,
            "url": verify_url.split("?")[0],
        },
    )
    doc.line(_("证明编号"), certificate.number)
    doc.line(_("姓名"), facts.name)
    doc.line(_("身份证号"), facts.id_masked)
    doc.line(_("参保险种"), "、".join(facts.schemes) or _("无"))
    doc.line(
        _("截至 %(date)s") % {"date": facts.as_of},
        _("正在享受基本医疗保险待遇")
        if facts.covered_today
        else _("当日不在待遇享受期内"),
    )
    doc.line(
        _("累计缴费月数"),
        _("实际缴费 %(actual)d 个月，视同缴费 %(deemed)d 个月，合计 %(total)s")
        % {
            "actual": facts.total_actual,
            "deemed": facts.total_deemed,
            "total": months_text(facts.total),
        },
    )
    doc.section(_("参保缴费期间"))
    doc.table(
        [_("年度"), _("险种"), _("参保地"), _("参保状态"), _("待遇享受期")],
        [
            [p.year, p.scheme, p.region, p.status, f"{p.start} – {p.end}"]
            for p in facts.periods
        ]
        or [["—", "", "", "", ""]],
        widths=[16, 38, 38, 24, 58],
    )
    doc.section(_("缴费月数（按参保地）"))
    doc.table(
        [_("参保地"), _("实际缴费月数"), _("视同缴费月数"), _("合计")],
        [[m.region, m.actual, m.deemed, months_text(m.total)] for m in facts.months]
        or [["—", "", "", ""]],
        widths=[60, 36, 36, 42],
    )
    doc.paragraph(
        _("特此证明。本证明所列信息为开具时的参保记录，可凭验证码在线核验真伪。")
    )
    doc.line(
        _("开具时间"),
        timezone.localtime(certificate.issued_at).strftime("%Y-%m-%d %H:%M"),
        size=10,
    )
    doc.line(_("电子签名"), certificate.signature, size=9)
    return doc.finish()


# --- 备案凭证 ----------------------------------------------------------------------


def filing_validity(filing: Filing) -> str:
    if filing.end_on is not None:
        return _("%(start)s 至 %(end)s") % {
            "start": _date(filing.start_on),
            "end": _date(filing.end_on),
        }
    return _("%(start)s 起长期有效（%(until)s 前不能变更或取消）") % {
        "start": _date(filing.start_on),
        "until": _date(filing.locked_until),
    }


def filing_evidence(filing: Filing) -> str:
    if filing.evidence == Evidence.RESIDENCE_PERMIT:
        return _("居住证 %(number)s") % {"number": filing.permit_masked}
    if filing.evidence == Evidence.COMMITMENT:
        return _("个人承诺书")
    return _("无需材料")


def filing_pdf(filing: Filing, *, verify_url: str) -> bytes:
    doc = PdfDocument(
        title=_("异地就医备案凭证 %(number)s") % {"number": filing.number},
        heading=_("基本医疗保险异地就医备案凭证"),
        code=filing.verification_code,
        verify_url=verify_url,
        code_label=_("验证码"),
        qr_caption=_("扫码或凭验证码在线核验"),
        footer=_("备案编号 %(number)s，验证码 %(code)s，核验：%(url)s")
        % {
            "number": filing.number,
            "code": filing.verification_code,
            "url": verify_url.split("?")[0],
        },
    )
    person = filing.person
    doc.line(_("备案编号"), filing.number)
    doc.line(_("参保人"), f"{person.name}（{person.id_masked}）")
    doc.line(_("参保地"), str(filing.insured_region))
    doc.line(_("备案类型"), filing.get_kind_display())
    doc.line(_("备案人员类别"), filing.get_reason_display())
    doc.line(
        _("就医地"), with_code(filing.destination_display, filing.destination_code)
    )
    doc.line(_("有效期"), filing_validity(filing))
    if filing.kind == FilingKind.LONG_TERM:
        doc.line(_("备案材料"), filing_evidence(filing))
    doc.line(_("备案状态"), filing.get_status_display())
    doc.line(
        _("备案时间"), timezone.localtime(filing.filed_at).strftime("%Y-%m-%d %H:%M")
    )
    doc.line(_("办理渠道"), filing.get_channel_display())
    doc.paragraph(
        _(
            "备案有效期内，在就医地的跨省联网定点医药机构就医购药，"
            "出示医保电子凭证或社会保障卡即可直接结算。"
        )
    )
    doc.paragraph(
        _("备案是否有效以核验结果为准：扫码或凭验证码在线核验，可查看备案当前状态。")
    )
    return doc.finish()
