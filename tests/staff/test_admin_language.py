"""The staff site in the page language: every column header, detail label and
filter title of the apps' admins translated; statuses and schemes as labels;
money as ¥1,234.56; events described in words; no "object (43)"."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.urls import reverse
from django.utils import translation

from payments import services
from payments.models import PaymentEvent
from tests.factories import EnrollmentFactory, PersonFactory

CJK = re.compile(r"[\u4e00-\u9fff]")
APPS = ("people", "enrollment", "payments", "transfers")
ADMINS = sorted(
    (
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in APPS
    ),
    key=lambda item: item[0]._meta.label,
)


def _shown_fields(model, model_admin) -> set:
    names = set(model_admin.list_display) | set(model_admin.readonly_fields)
    names |= set(model_admin.fields or ())
    for _name, options in model_admin.fieldsets or ():
        for entry in options["fields"]:
            names |= set(entry) if isinstance(entry, (list, tuple)) else {entry}
    if not (model_admin.fields or model_admin.fieldsets):
        form = model_admin.form
        names |= set(getattr(getattr(form, "Meta", None), "fields", None) or ())
    names.discard("action_checkbox")
    return names


@pytest.mark.parametrize(
    ("model", "model_admin"), ADMINS, ids=[m._meta.label for m, _ in ADMINS]
)
def test_every_label_of_the_staff_pages_is_translated(model, model_admin):
    untranslated = []
    with translation.override("zh-hans"):
        form_fields = model_admin.form.base_fields
        for name in _shown_fields(model, model_admin):
            if isinstance(name, str) and getattr(form_fields.get(name), "label", None):
                label = str(form_fields[name].label)
            else:
                label = str(label_for_field(name, model, model_admin))
            if name == "password":
                continue  # Django's own, translated by Django
            if not CJK.search(label):
                untranslated.append((getattr(name, "__name__", name), label))
        for inline in model_admin.inlines:
            inline_admin = inline(model, admin.site)
            for name in inline_admin.fields or ():
                label = str(label_for_field(name, inline.model, inline_admin))
                if not CJK.search(label):
                    untranslated.append((f"inline {name}", label))
        for entry in model_admin.list_filter:
            if isinstance(entry, str):
                title = str(model._meta.get_field(entry).verbose_name)
                if not CJK.search(title):
                    untranslated.append((f"filter {entry}", title))
    assert untranslated == [], model._meta.label


@pytest.fixture
def counter_payment(staff, regions):
    enrollment = EnrollmentFactory(
        person=PersonFactory(region=regions[0], name="张伟"), region=regions[0]
    )
    return services.counter_payment_take(
        staff=staff["clerk"],
        enrollment_id=enrollment.pk,
        idempotency_key="language-key-00001",
        tender="cash",
    )


def test_a_payment_event_reads_as_a_sentence_without_a_query(
    counter_payment, django_assert_num_queries
):
    event = (
        PaymentEvent.objects.select_related("payment", "payment__insured")
        .filter(payment=counter_payment, to_status="success")
        .get()
    )
    amount = f"¥{counter_payment.amount:,.2f}"
    with translation.override("zh-hans"), django_assert_num_queries(0):
        text = str(event)
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d 张伟 缴费成功 {re.escape(amount)}（经办窗口）",
        text,
    ), text
    bare = PaymentEvent.objects.get(pk=event.pk)
    with django_assert_num_queries(0):
        assert "缴费成功" in str(bare)


def test_payment_pages_show_labels_money_and_no_raw_codes(
    client, staff, counter_payment
):
    client.force_login(staff["clerk"])
    amount = f"¥{counter_payment.amount:,.2f}"
    for url in (
        reverse("admin:payments_payment_change", args=[counter_payment.pk]),
        reverse("admin:payments_payment_changelist"),
        reverse("admin:payments_order_changelist"),
        reverse(
            "admin:enrollment_enrollment_change",
            args=[counter_payment.order.enrollment_id],
        ),
    ):
        page = client.get(url).content.decode()
        content = page[page.index('id="content"') :]
        assert " object (" not in content, url
        for raw in (
            ">resident<",
            ">success<",
            ">created<",
            "Idempotency",
            "Created at",
        ):
            assert raw not in content, (url, raw)
        if "payments" in url:
            assert amount in content, url
    detail = client.get(
        reverse("admin:payments_payment_change", args=[counter_payment.pk])
    ).content.decode()
    assert "城乡居民医保" in detail and "缴费成功" in detail and "现金" in detail
