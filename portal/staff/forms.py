from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import IdNumberField, NameField, clean_mobile_value
from core.identity import parse_id_number
from enrollment.models import Category, SuspendReason
from payments.models import Tender
from people.models import AuthorityBasis, Relation
from records.forms import FilingForm

from .selectors import ENROLLMENT_NUMBER, RECEIPT_NUMBER, normalise_reference


class CounterPersonForm(forms.Form):
    """Register a person without an account (窗口登记)."""

    name = NameField(help_text=_("与身份证上的姓名一致"))
    id_number = IdNumberField(help_text=_("18位，最后一位可以是X"))
    mobile = forms.CharField(label=_("手机号（选填）"), max_length=11, required=False)

    def clean_mobile(self):
        value = (self.cleaned_data.get("mobile") or "").strip()
        return clean_mobile_value(value) if value else ""


class CounterAuthorityForm(forms.Form):
    """Record at the counter an adult's consent, in person, to a relative's
    authority, or a guardian's relation to a minor proven by the household
    register (SPEC §1a)."""

    relative_id_number = IdNumberField(
        label=_("被代办人身份证号"), help_text=_("同意授权的本人，或未成年子女")
    )
    owner_id_number = IdNumberField(label=_("代办人身份证号"))
    relation = forms.ChoiceField(
        label=_("被代办人是代办人的"), choices=Relation.choices
    )
    basis = forms.ChoiceField(
        label=_("授权依据"),
        choices=[
            (AuthorityBasis.COUNTER_CONSENT, AuthorityBasis.COUNTER_CONSENT.label),
            (
                AuthorityBasis.HOUSEHOLD_REGISTER,
                AuthorityBasis.HOUSEHOLD_REGISTER.label,
            ),
        ],
    )
    evidence = forms.CharField(
        label=_("核验的证件"),
        max_length=200,
        help_text=_("如：双方身份证原件；户口本（户号）"),
    )


class CounterSearchForm(forms.Form):
    """查找参保人: one number (identity, enrollment or receipt), or a name
    with the birth date. Posted, never put in a URL."""

    term = forms.CharField(
        label=_("身份证号、参保登记编号或缴费凭证号"),
        max_length=40,
        required=False,
        help_text=_("身份证号须完整18位；参保登记编号以CB开头"),
    )
    name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("与姓名一起查找"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("term", "name"):
            self.fields[name].widget.attrs.update(
                {"autocomplete": "off", "spellcheck": "false"}
            )

    def clean(self):
        data = super().clean()
        term = normalise_reference(data.get("term"))
        name = (data.get("name") or "").strip()
        birth_date = data.get("birth_date")
        if term:
            data["kind"], data["value"] = self._classify(term)
            return data
        if name or birth_date or self.errors.get("birth_date"):
            if not name:
                self.add_error("name", _("请填写姓名，或改用身份证号查找。"))
            if not birth_date and not self.errors.get("birth_date"):
                self.add_error("birth_date", _("按姓名查找时请同时填写出生日期。"))
            data["kind"], data["value"] = "name", name
            return data
        raise forms.ValidationError(
            _("请输入身份证号、参保登记编号或缴费凭证号，或填写姓名和出生日期。"),
            code="empty",
        )

    def _classify(self, term: str) -> tuple[str, str]:
        if term.startswith("CB"):
            if ENROLLMENT_NUMBER.match(term) is None:
                self.add_error(
                    "term",
                    _(
                        "参保登记编号应为CB加18位以上数字（如 CB2027340100"
                        "00000123），请核对。"
                    ),
                )
            return "enrollment", term
        if RECEIPT_NUMBER.match(term):
            return "receipt", term
        try:
            return "id_number", parse_id_number(term).number
        except ValidationError as error:
            self.add_error("term", error)
            return "id_number", term


class SuspendForm(forms.Form):
    """暂停参保 on evidence seen at the counter."""

    enrollment = forms.TypedChoiceField(label=_("参保登记"), coerce=int)
    reason = forms.ChoiceField(label=_("暂停原因"), choices=SuspendReason.choices)
    evidence = forms.CharField(
        label=_("核验的材料"),
        max_length=150,
        help_text=_("如：单位参保证明（编号）；户口迁移证明"),
    )

    def __init__(self, *args, enrollments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrollment"].choices = [
            (
                enrollment.pk,
                _("%(reference)s（%(year)s年度 %(scheme)s）")
                % {
                    "reference": enrollment.reference,
                    "year": enrollment.year,
                    "scheme": enrollment.get_scheme_display(),
                },
            )
            for enrollment in enrollments
        ]
        self.fields["enrollment"].error_messages["invalid_choice"] = _(
            "请选择本统筹区可以暂停的参保登记。"
        )

    def clean_evidence(self):
        value = (self.cleaned_data.get("evidence") or "").strip()
        if not value:
            raise forms.ValidationError(_("请填写核验的材料（名称和编号）。"))
        return value


class CounterPayFindForm(forms.Form):
    """窗口缴费, step 1: the number the citizen holds."""

    number = forms.CharField(
        label=_("参保登记编号"),
        max_length=40,
        help_text=_("以CB开头，见参保登记回执或“我的参保”页面"),
    )
    months = forms.IntegerField(
        label=_("预缴月数（灵活就业人员）"),
        min_value=1,
        max_value=12,
        initial=1,
        required=False,
        error_messages={
            "min_value": _("预缴月数应为1至12个月。"),
            "max_value": _("预缴月数应为1至12个月。"),
            "invalid": _("请填写1至12之间的整数。"),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false"}
        )

    def clean_number(self):
        number = normalise_reference(self.cleaned_data.get("number"))
        if ENROLLMENT_NUMBER.match(number) is None:
            raise forms.ValidationError(
                _(
                    "参保登记编号应为CB加18位以上数字（如 CB202734010000000123），"
                    "请核对。"
                )
            )
        return number

    def clean_months(self):
        return self.cleaned_data.get("months") or 1


class CounterPayConfirmForm(forms.Form):
    """窗口缴费, step 2: the clerk confirms the amount shown and how it was paid."""

    number = forms.CharField(widget=forms.HiddenInput, max_length=40)
    months = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=12, required=False
    )
    expected_total = forms.DecimalField(
        widget=forms.HiddenInput, max_digits=12, decimal_places=2, min_value=0
    )
    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=64, min_length=16
    )
    tender = forms.ChoiceField(
        label=_("收款方式"),
        choices=Tender.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择收款方式（现金或刷卡）。"),
            "invalid_choice": _("请选择收款方式（现金或刷卡）。"),
        },
    )

    def clean_number(self):
        return normalise_reference(self.cleaned_data.get("number"))

    def clean_months(self):
        return self.cleaned_data.get("months") or 1


class DayCloseForm(forms.Form):
    """日结对账 of one clerk: what was counted per tender."""

    clerk = forms.IntegerField(widget=forms.HiddenInput)
    cash = forms.DecimalField(
        label=_("实收现金"), max_digits=12, decimal_places=2, min_value=0
    )
    card = forms.DecimalField(
        label=_("刷卡结算金额"), max_digits=12, decimal_places=2, min_value=0
    )
    note = forms.CharField(
        label=_("说明"),
        max_length=200,
        required=False,
        help_text=_("实收与凭证不符（长短款）时必填"),
    )


class CounterEnrollForm(forms.Form):
    """参保登记 at the counter (城乡居民医保): the benefit year and the person's
    category; the region is the clerk's."""

    year = forms.TypedChoiceField(
        label=_("待遇年度"),
        coerce=int,
        error_messages={
            "required": _("请选择待遇年度。"),
            "invalid_choice": _("请从列表中选择可以登记的待遇年度。"),
        },
    )
    category = forms.ChoiceField(
        label=_("人员类别"),
        choices=Category.choices,
        initial=Category.ORDINARY,
        help_text=_(
            "特困、低保等类别须核验相关证明，提交后进入类别审核；"
            "审核通过前按普通居民标准缴费"
        ),
        error_messages={
            "required": _("请选择人员类别。"),
            "invalid_choice": _("请从列表中选择人员类别。"),
        },
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [
            (year, _("%(year)d年度") % {"year": year}) for year in years
        ]


class CounterFilingForm(FilingForm):
    """异地就医备案 at the counter: the citizens' form (records.forms) without
    the choice of person (the clerk is on the person's page), the commitment
    signed on paper, and what the clerk saw."""

    evidence_seen = forms.CharField(
        label=_("核验的材料"),
        max_length=100,
        help_text=_("如：身份证原件；居住证（号码）；转诊证明（开具医院）"),
        error_messages={"required": _("请填写核验的材料（名称和编号）。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, persons=(), **kwargs)
        del self.fields["person"]
        self.fields["commitment"].label = _(
            "已当面签署个人承诺书（没有居住证的长期备案，原件留存）"
        )
        self.fields["residence_permit_number"].label = _("居住证号（长期备案）")
        self.fields["residence_permit_number"].help_text = _(
            "异地安置退休、长期居住或常驻工作须核验居住证并填写号码；"
            "没有居住证的请本人签署个人承诺书"
        )

    def clean_evidence_seen(self):
        value = (self.cleaned_data.get("evidence_seen") or "").strip()
        if not value:
            raise forms.ValidationError(_("请填写核验的材料（名称和编号）。"))
        return value

    def filing_args(self) -> dict:
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "destination_code": data["destination"],
            "start_on": data["start_on"],
            "residence_permit_number": data["residence_permit_number"],
            "commitment": data["commitment"],
        }
