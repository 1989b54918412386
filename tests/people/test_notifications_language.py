"""Inbox messages and "who looked at my record" read in the reader's language
(issue 14): a message is stored as its untranslated template and parameters,
whatever language was active when it was written (a worker, a relative's
English page), and written out when read."""

import datetime as dt
import logging
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext_noop, pgettext_lazy

from core.money import format_yuan
from enrollment import services as enrollment_services
from enrollment.models import Scheme
from payments import services as payments_services
from payments.models import Payment
from people import services
from people.models import (
    Notification,
    ProxyAccess,
    Role,
    msg_date,
    msg_money,
    msg_phrase,
    msg_render,
    msg_source,
)
from records import services as records_services
from tests import factories
from tests.records.conftest import covered
from tests.transfers.scenario import OUT, apply_args, ready_person, set_processing
from transfers import services as transfers_services

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture(autouse=True)
def _language_left_as_found():
    # A page requested in English leaves English active in this thread
    # (LocaleMiddleware activates and never deactivates).
    yield
    translation.deactivate()


def read(text_of, language: str) -> str:
    with translation.override(language):
        return text_of()


def assert_english(text: str, *data: str) -> None:
    """Written in English: no Chinese left once the data (names, places) is
    taken out."""
    for value in data:
        text = text.replace(value, "")
    assert not CJK.search(text), text


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def en_date(day: dt.date) -> str:
    return f"{day.day} {day:%b} {day.year}"


def latest(person) -> Notification:
    return Notification.objects.filter(person=person).latest("id")


@pytest.fixture
def pair():
    """王小明 and 李娜, each with an account, in 合肥."""
    hefei = factories.region("340100")
    wang = factories.UserFactory(person__name="王小明", person__region=hefei)
    li = factories.UserFactory(person__name="李娜", person__region=hefei)
    return wang, li


# --- one message from each app -------------------------------------------------------


def test_an_authority_request_written_in_chinese_reads_in_each_readers_language(
    pair,
):
    wang, li = pair
    with translation.override("zh-hans"):
        services.family_member_request(
            owner=wang.person,
            id_number=li.person.id_number,
            name="李娜",
            relation="spouse",
        )
    note = latest(li.person)
    assert note.subject == "%(name)s 申请代您办理医保业务"  # the msgid, kept
    assert read(lambda: note.subject_text, "zh-hans") == "王小明 申请代您办理医保业务"
    english = read(lambda: note.subject_text, "en")
    assert "王小明" in english
    assert_english(english, "王小明")
    assert_english(read(lambda: note.body_text, "en"))
    assert read(lambda: note.body_text, "zh-hans").startswith("同意后，对方可以查看")


def test_a_message_written_while_english_was_active_still_reads_in_chinese(pair):
    wang, li = pair
    link = factories.family_link(
        wang.person, li.person, relation="spouse", status="pending"
    )
    with translation.override("en"):
        services.authority_decide(
            user=li, link_id=link.pk, accept=True, scopes=["view"]
        )
    note = latest(wang.person)
    assert note.subject == "%(name)s 同意了您的代办授权申请"
    assert read(lambda: note.subject_text, "zh-hans") == "李娜 同意了您的代办授权申请"
    assert_english(read(lambda: note.subject_text, "en"), "李娜")


def test_a_staff_suspension_reads_its_scheme_and_reason_in_the_readers_language():
    factories.policy("340100", 2026)
    person = factories.PersonFactory()
    enrollment = factories.EnrollmentFactory(
        person=person,
        status="active",
        coverage_start=dt.date(2026, 1, 1),
        coverage_end=dt.date(2026, 12, 31),
    )
    clerk = factories.StaffFactory(role=Role.CLERK)
    with time_machine.travel(dt.datetime(2026, 8, 15, 10, tzinfo=SHANGHAI), tick=False):
        enrollment_services.enrollment_suspend(
            enrollment_id=enrollment.pk,
            reason="move",
            actor=clerk,
            evidence="户口迁移证明 2026-08-01",
        )
    note = latest(person)
    assert read(lambda: note.subject_text, "zh-hans") == (
        "经办人员已为您办理：暂停2026年度城乡居民医保"
    )
    assert read(lambda: note.body_text, "zh-hans") == (
        "原因：迁往外地，办理医保关系转移接续。已缴费期间的待遇不受影响。"
    )
    subject = read(lambda: note.subject_text, "en")
    assert "2026" in subject
    assert_english(subject)
    assert_english(read(lambda: note.body_text, "en"))


def test_a_payment_made_for_someone_reads_its_amount_in_each_language(pair):
    wang, li = pair
    enrollment = factories.EnrollmentFactory(person=li.person, year=2027)
    factories.family_link(wang.person, li.person, relation="spouse")
    with time_machine.travel(dt.datetime(2026, 10, 15, 10, tzinfo=SHANGHAI)):
        payments_services.payment_checkout(
            user=wang,
            enrollment_id=enrollment.pk,
            channel="wechat",
            idempotency_key="language-pay-key-00001",
        )
    amount = format_yuan(Payment.objects.get().amount)
    note = latest(li.person)
    chinese = read(lambda: note.subject_text, "zh-hans")
    assert chinese == f"王小明 代您办理了：缴纳2027年度保费 {amount}"
    english = read(lambda: note.subject_text, "en")
    assert amount in english and "2027" in english
    assert_english(english, "王小明")
    record = ProxyAccess.objects.get(person=li.person)
    assert read(lambda: record.what_text, "zh-hans") == f"缴纳2027年度保费 {amount}"
    assert_english(read(lambda: record.what_text, "en"))


def test_a_transfer_step_reads_its_deadline_as_each_reader_writes_dates():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = transfers_services.transfer_apply(**apply_args(person))
    transfers_services.transfer_accept(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    deadline = transfer.outgoing_deadline
    note = latest(person)
    assert note.params["date"] == {"date": deadline.isoformat()}
    assert read(lambda: note.subject_text, "zh-hans") == "转出地已受理您的转移接续申请"
    assert read(lambda: note.body_text, "zh-hans") == (
        f"转出地将在 {zh_date(deadline)} 前出具参保信息表并转出个人账户。"
    )
    assert_english(read(lambda: note.subject_text, "en"))
    body = read(lambda: note.body_text, "en")
    assert en_date(deadline) in body
    assert_english(body)


def test_a_rejected_transfer_reads_its_reason_and_next_step_in_english():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = transfers_services.transfer_apply(**apply_args(person))
    transfers_services.transfer_reject(transfer_id=transfer.pk, code="arrears")
    note = latest(person)
    assert read(lambda: note.body_text, "zh-hans") == (
        "原因：转出地存在欠费。请先在转出地补缴欠费，再重新申请转移。"
    )
    assert_english(read(lambda: note.body_text, "en"))


def test_the_applicant_for_a_relative_reads_the_relayed_step_in_their_language():
    applicant = factories.UserFactory(person__name="王小明")
    mother, _out, _in = ready_person()
    factories.family_link(applicant.person, mother, relation="parent")
    set_processing(OUT, "manual")
    with translation.override("zh-hans"):
        transfer = transfers_services.transfer_apply(
            **apply_args(mother), applicant=applicant
        )
    note = latest(applicant.person)
    assert read(lambda: note.subject_text, "zh-hans") == (
        f"{mother.name}的转移接续：转移接续申请已提交（{transfer.reference}）"
    )
    english = read(lambda: note.subject_text, "en")
    assert transfer.reference in english
    assert_english(english, mother.name)


def test_a_filing_reads_its_dates_in_each_readers_format():
    factories.region("110000")
    user = factories.UserFactory(
        person__name="王芳", person__region=factories.region("340100")
    )
    covered(user.person)
    today = dt.date(2026, 6, 15)
    with time_machine.travel(dt.datetime(2026, 6, 15, 10, tzinfo=SHANGHAI), tick=False):
        filing = records_services.filing_create(
            actor=user,
            person_id=user.person.pk,
            reason="referral",
            destination_code="110000",
            start_on=today,
        )
    note = latest(user.person)
    assert read(lambda: note.subject_text, "zh-hans") == "异地就医备案成功：北京市"
    assert read(lambda: note.body_text, "zh-hans") == (
        f"备案编号 {filing.number}，验证码 {filing.verification_code}。"
        f"有效期 {zh_date(today)} 至 {zh_date(filing.end_on)}。"
    )
    assert_english(read(lambda: note.subject_text, "en"), "北京市")
    body = read(lambda: note.body_text, "en")
    assert en_date(today) in body and en_date(filing.end_on) in body
    assert filing.verification_code in body
    assert_english(body)


# --- the page, the e-mail ------------------------------------------------------------


def test_the_inbox_page_shows_messages_and_proxy_records_in_the_page_language(
    client, pair
):
    wang, li = pair
    factories.family_link(wang.person, li.person, relation="spouse")
    with translation.override("zh-hans"):
        services.proxy_access_record(
            user=wang,
            person=li.person,
            scope="enroll",
            what=msg_phrase(
                gettext_noop("暂停%(year)d年度%(scheme)s"),
                year=2026,
                scheme=Scheme.RESIDENT.label,
            ),
        )
    client.force_login(li)
    chinese = client.get(reverse("people:inbox")).content.decode()
    assert "王小明 代您办理了：暂停2026年度城乡居民医保" in chinese
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("people:inbox")).content.decode()
    assert "暂停2026年度" not in english
    with translation.override("en"):
        subject = latest(li.person).subject_text
        what = ProxyAccess.objects.get(person=li.person).what_text
    assert_english(subject, "王小明")
    assert_english(what)
    assert escape(subject) in english and escape(what) in english


def test_the_email_goes_in_the_language_of_the_readers_account(
    pair, django_capture_on_commit_callbacks
):
    wang, li = pair
    verified = dt.datetime(2026, 1, 1, tzinfo=SHANGHAI)
    li.email, li.language = "li@example.cn", "en"
    li.email_verified_at = verified
    li.save(update_fields=["email", "language", "email_verified_at"])
    wang.email, wang.email_verified_at = "wang@example.cn", verified
    wang.save(update_fields=["email", "email_verified_at"])
    link = factories.family_link(wang.person, li.person, relation="spouse")
    with (
        translation.override("zh-hans"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.authority_revoke(user=wang, link_id=link.pk)
    (message,) = mail.outbox
    assert message.to == ["li@example.cn"]
    assert "王小明" in message.subject
    assert_english(message.subject, "王小明")
    # Without a language of their own a reader is written to in Chinese.
    mail.outbox.clear()
    link = factories.family_link(li.person, wang.person, relation="spouse")
    with (
        translation.override("en"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.authority_revoke(user=li, link_id=link.pk)
    (message,) = mail.outbox
    assert (message.to, message.subject) == (["wang@example.cn"], "李娜 解除了代办授权")


# --- old rows, broken rows, the parameter kinds --------------------------------------


def test_a_message_stored_before_params_shows_as_stored(client, pair):
    wang, li = pair
    old = Notification.objects.create(
        person=li.person, subject="王小明 代您办理了：缴纳2027年度保费 ¥400.00"
    )
    record = ProxyAccess.objects.create(
        person=li.person, actor=wang.person, scope="pay", what="缴纳2027年度保费"
    )
    for language in ("zh-hans", "en"):
        assert read(lambda: old.subject_text, language) == old.subject
        assert read(lambda: old.body_text, language) == ""
        assert read(lambda: record.what_text, language) == "缴纳2027年度保费"
    client.force_login(li)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("people:inbox")).content.decode()
    assert old.subject in page


def test_a_message_missing_a_parameter_shows_unfilled_and_is_logged(
    client, pair, caplog
):
    _wang, li = pair
    broken = Notification.objects.create(
        person=li.person,
        subject="%(name)s 申请代您办理医保业务",
        body="有 %(count)d 位家人持有或申请了代您办理医保的授权",
        params={"count": "not a number"},
    )
    with caplog.at_level(logging.WARNING, logger="people.models"):
        assert read(lambda: broken.subject_text, "zh-hans") == (
            "%(name)s 申请代您办理医保业务"
        )
        english = read(lambda: broken.body_text, "en")
    assert "%(count)d" in english
    assert_english(english)
    assert "left unfilled" in caplog.text and "KeyError" in caplog.text
    client.force_login(li)
    for language in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        assert client.get(reverse("people:inbox")).status_code == 200


def test_amounts_and_dates_are_kept_exact_and_written_out_as_the_reader_reads():
    params = {
        "amount": msg_money(Decimal("1234.5")),
        "bare": msg_money("80", symbol=False),
        "date": msg_date(dt.date(2026, 12, 8)),
    }
    assert params["amount"] == {"yuan": "1234.50"}
    template = "%(amount)s %(bare)s %(date)s"
    assert read(lambda: msg_render(template, params), "zh-hans") == (
        "¥1,234.50 80.00 2026年12月8日"
    )
    assert read(lambda: msg_render(template, params), "en") == (
        "¥1,234.50 80.00 8 Dec 2026"
    )


def test_notify_keeps_labels_amounts_and_dates_untranslated(pair):
    _wang, li = pair
    with translation.override("en"):
        note = services.notify(
            person=li.person,
            subject=gettext_noop("经办人员已为您办理：%(what)s"),
            params={
                "what": Scheme.FLEXIBLE.label,
                "amount": Decimal("12"),
                "on": dt.date(2026, 1, 2),
            },
        )
    note.refresh_from_db()
    assert note.params == {
        "what": {"t": "灵活就业职工医保"},
        "amount": {"yuan": "12.00"},
        "on": {"date": "2026-01-02"},
    }
    assert read(lambda: note.subject_text, "zh-hans") == (
        "经办人员已为您办理：灵活就业职工医保"
    )


def test_a_label_with_a_context_keeps_it():
    label = pgettext_lazy("notification", "转移接续已办结")
    assert msg_source(label) == "notification\x04转移接续已办结"
    assert msg_source(Scheme.RESIDENT.label) == "城乡居民医保"
    assert read(lambda: msg_render(msg_source(label)), "zh-hans") == "转移接续已办结"
