"""The counter's printed slip of a residents' registration (参保登记回执), on
the PDF frame of core.documents: what the citizen takes home to pay with."""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.documents import PdfDocument
from core.money import format_yuan


def _day(value) -> str:
    return date_format(value, "DATE_FORMAT")


def enrollment_slip_pdf(
    enrollment, *, premium, due, cover_from, pay_url: str, clerk_name: str
) -> bytes:
    """The registration number (参保登记编号, what every channel takes the
    payment by), the person masked, the year, the category, the amount due
    and where to pay. The QR code leads to the portal's 代缴 page."""
    person = enrollment.person
    doc = PdfDocument(
        title="{} {}".format(_("参保登记回执"), enrollment.reference),
        heading=_("城乡居民基本医疗保险参保登记回执"),
        code=enrollment.reference,
        verify_url=pay_url,
        code_label=_("参保登记编号"),
        qr_caption=_("扫码网上缴费"),
        footer=_("参保登记编号 %(reference)s；网上缴费：%(url)s")
        % {"reference": enrollment.reference, "url": pay_url},
    )
    doc.line(_("参保登记编号"), enrollment.reference)
    doc.line(_("参保人"), f"{person.name}（{person.id_masked}）")
    doc.line(_("险种"), enrollment.get_scheme_display())
    doc.line(_("参保地"), str(enrollment.region))
    doc.line(_("待遇年度"), _("%(year)d年度") % {"year": enrollment.year})
    category = enrollment.get_category_display()
    if premium.verification_pending:
        category = _("%(category)s（待审核）") % {"category": category}
    doc.line(_("人员类别"), category)
    doc.line(_("个人应缴"), format_yuan(premium.personal_amount))
    if premium.subsidy:
        doc.line(
            _("财政补助"),
            _("%(amount)s（政府承担，个人不缴）")
            % {"amount": format_yuan(premium.subsidy)},
        )
    doc.line(_("登记状态"), enrollment.get_status_display())
    if due is not None:
        doc.line(_("缴费截止日"), _day(due))
    if cover_from is not None:
        doc.line(
            _("待遇开始"),
            _("%(date)s（今天缴费）") % {"date": _day(cover_from)},
        )
    doc.line(
        _("登记时间"),
        timezone.localtime(enrollment.created_at).strftime("%Y-%m-%d %H:%M"),
    )
    doc.line(_("经办人"), clerk_name or "—")
    doc.section(_("去哪里缴费"))
    doc.paragraph(
        _(
            "一、%(region)s任一医保经办窗口：出示本回执或报参保登记编号，"
            "现金或刷卡缴费，当场出具电子缴费凭证。"
        )
        % {"region": enrollment.region.display_name}
    )
    doc.paragraph(
        _(
            "二、网上缴费：国家医保服务平台App、微信、支付宝或银行App，"
            "按参保登记编号缴费；或扫描右上角二维码，登录本网站后在“代缴”页面"
            "凭参保人身份证号和姓名缴费（家人可代缴）。"
        )
    )
    if premium.verification_pending:
        doc.paragraph(
            _(
                "所选人员类别须经办人员审核，审核通过后按减免标准缴费；"
                "审核前缴费的按普通居民标准收取。"
            )
        )
    doc.paragraph(
        _(
            "缴费成功后即参保，登记状态变为“正常参保”。待遇开始日期以缴费日期为准，"
            "请勿向任何个人转账缴费。"
        )
    )
    return doc.finish()
