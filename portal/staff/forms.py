from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IdNumberField, NameField, clean_mobile_value
from people.models import AuthorityBasis, Relation


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
