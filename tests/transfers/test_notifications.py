"""Each step of a transfer is told to the person concerned and to whoever acted
for them: a family member who applied hears of every step, while they still
hold the person's authority."""

import pytest
from django.core import mail
from django.urls import reverse

from people.models import AuthorityStatus, FamilyLink, Notification
from tests import factories
from transfers import services

from .scenario import OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db


def about(transfer, person):
    return [
        note.subject_text
        for note in Notification.objects.filter(
            person=person, url=reverse("transfers:detail", args=[transfer.pk])
        ).order_by("id")
    ]


def test_the_applicant_for_a_relative_hears_of_each_step_as_the_relative_does(
    django_capture_on_commit_callbacks,
):
    applicant = factories.UserFactory(email="son@example.cn")
    relative_user = factories.UserFactory(email="mother@example.cn")
    mother, _out, _in = ready_person(person=relative_user.person)
    factories.family_link(applicant.person, mother, relation="parent")
    with django_capture_on_commit_callbacks(execute=True):
        transfer = services.transfer_apply(**apply_args(mother), applicant=applicant)
        for _ in range(4):
            services.transfers_scan(time_budget=1)
    transfer.refresh_from_db()
    assert transfer.status == "completed"
    hers = about(transfer, mother)
    his = about(transfer, applicant.person)
    assert len(hers) == len(his) == 5
    assert hers[-1] == "转移接续已办结"
    for hers_subject, his_subject in zip(hers, his, strict=True):
        assert his_subject == f"{mother.name}的转移接续：{hers_subject}"
    recipients = [message.to for message in mail.outbox]
    assert recipients.count(["son@example.cn"]) == 5
    # She also hears that someone applied on her behalf (people.proxy_act).
    assert recipients.count(["mother@example.cn"]) == (
        Notification.objects.filter(person=mother).count()
    )


def test_applying_for_oneself_is_told_once_per_step():
    user = factories.UserFactory()
    person, _out, _in = ready_person(person=user.person)
    transfer = services.transfer_apply(**apply_args(person), applicant=user)
    assert about(transfer, person) == [f"转移接续申请已提交（{transfer.reference}）"]
    assert Notification.objects.filter(person=person).count() == 1


def test_a_relative_who_cancels_is_told_and_so_is_the_applicant():
    applicant = factories.UserFactory()
    sister = factories.UserFactory()
    mother, _out, _in = ready_person()
    factories.family_link(applicant.person, mother, relation="parent")
    factories.family_link(sister.person, mother, relation="parent")
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(mother), applicant=applicant)
    services.transfer_cancel(transfer_id=transfer.pk, actor=sister)
    subject = f"转移接续申请已撤销（{transfer.reference}）"
    assert about(transfer, mother)[-1] == subject
    assert (
        about(transfer, applicant.person)[-1] == f"{mother.name}的转移接续：{subject}"
    )
    assert about(transfer, sister.person) == [f"{mother.name}的转移接续：{subject}"]


def test_an_applicant_whose_authority_was_revoked_hears_no_more():
    applicant = factories.UserFactory()
    mother, _out, _in = ready_person()
    link = factories.family_link(applicant.person, mother, relation="parent")
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(mother), applicant=applicant)
    FamilyLink.objects.filter(pk=link.pk).update(status=AuthorityStatus.REVOKED)
    services.transfer_accept(transfer_id=transfer.pk)
    assert len(about(transfer, mother)) == 2
    assert len(about(transfer, applicant.person)) == 1  # the application only


def test_staff_who_apply_at_the_counter_are_not_sent_citizen_messages():
    person, _out, _in = ready_person()
    clerk = factories.StaffFactory(region=factories.region(OUT))
    transfer = services.transfer_apply(
        **apply_args(person), applicant=clerk, channel="counter"
    )
    assert len(about(transfer, person)) == 1
    assert Notification.objects.exclude(person=person).count() == 0
