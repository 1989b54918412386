"""No cached page shows stale data after a write (core.pagecache).

Each test reads the pages first, so their bodies are in the cache, then
writes through the services (or the payment channel's callback), then reads
again and finds the new state. The writes run their after-commit hooks, as in
production; the race tests at the end pin why a reader can never keep what it
read before a commit."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse

from core.pagecache import fragment_get, fragment_set, site_changed, versions_bump
from enrollment import services as enrollment_services
from enrollment.models import MonthsKind, Scheme
from payments import services as payment_services
from payments.models import Payment, PaymentStatus
from people import services as people_services
from people.models import AuthorityStatus, FamilyLink
from records import services as records_services
from tests import factories
from tests.payments.conftest import (
    callbacks_via_client,  # noqa: F401 - the channel answers through the client
    signed_post,
)
from transfers import services as transfer_services

pytestmark = pytest.mark.django_db

HISTORY, COVERAGE = "payments:history", "enrollment:coverage"


@pytest.fixture(autouse=True)
def in_the_window():
    with time_machine.travel(
        dt.datetime(2026, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a write and its after-commit hooks (the bumps, the channel)."""

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run


def without_tokens(text: str) -> str:
    """The page without its CSRF tokens (masked afresh for every request)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)


def pages(user, *names) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    texts = {}
    for name in names or (HISTORY, COVERAGE):
        response = client.get(reverse(name))
        assert response.status_code == 200
        texts[name] = without_tokens(response.content.decode())
    return texts


def warm(user, *names) -> dict[str, str]:
    """Read twice: the second read is served from the cache."""
    pages(user, *names)
    return pages(user, *names)


def citizen_with_registration(year=2026):
    factories.policy("340100", year)
    user = factories.UserFactory(person__region=factories.region("340100"))
    enrollment = factories.EnrollmentFactory(person=user.person, year=year)
    return user, enrollment


def pay_link(enrollment) -> str:
    return f'href="{reverse("payments:pay", args=[enrollment.pk])}"'


def test_warm_pages_come_from_the_cache(django_assert_num_queries):
    user, _enrollment = citizen_with_registration()
    client = Client()
    client.force_login(user)
    for name in (HISTORY, COVERAGE):
        first = without_tokens(client.get(reverse(name)).content.decode())
        with django_assert_num_queries(1):  # the user; the body is cached
            again = client.get(reverse(name)).content.decode()
        assert without_tokens(again) == first


@pytest.mark.usefixtures("callbacks_via_client")
def test_paying_through_the_channel_shows_on_both_pages(commit):
    user, enrollment = citizen_with_registration()
    before = warm(user)
    assert pay_link(enrollment) in before[HISTORY]
    assert "缴费成功" not in before[HISTORY]
    assert "已登记待缴费" in before[COVERAGE]
    payment = commit(
        payment_services.payment_checkout,
        user=user,
        enrollment_id=enrollment.pk,
        channel="wechat",
        idempotency_key="fresh-pay-000000001",
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    after = pages(user)
    assert "缴费成功" in after[HISTORY]
    assert pay_link(enrollment) not in after[HISTORY]
    assert "正常参保" in after[COVERAGE] and "已登记待缴费" not in after[COVERAGE]


def test_settling_by_callback_shows_on_both_pages():
    user, enrollment = citizen_with_registration()
    # The intent only: the channel is never called (no after-commit hooks).
    payment = payment_services.payment_checkout(
        user=user,
        enrollment_id=enrollment.pk,
        channel="alipay",
        idempotency_key="fresh-callback-0001",
    )
    before = warm(user)
    assert "正在发起支付" in before[HISTORY]
    assert "已登记待缴费" in before[COVERAGE]
    response = signed_post(
        Client(),
        "alipay",
        {
            "reference": payment.reference,
            "status": "success",
            "amount": str(payment.amount),
            "seq": 2,
            "transaction_id": f"T{payment.pk}",
        },
    )
    assert response.status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.SUCCESS
    after = pages(user)
    assert "缴费成功" in after[HISTORY] and "正在发起支付" not in after[HISTORY]
    assert "正常参保" in after[COVERAGE]


@pytest.mark.usefixtures("callbacks_via_client")
def test_a_relatives_payment_shows_on_the_payers_pages(commit):
    user, _own = citizen_with_registration()
    relative = factories.PersonFactory(region=factories.region("340100"))
    factories.family_link(user.person, relative)
    enrollment = factories.EnrollmentFactory(person=relative, year=2026)
    before = warm(user)
    assert pay_link(enrollment) in before[HISTORY]
    commit(
        payment_services.payment_checkout,
        user=user,
        enrollment_id=enrollment.pk,
        channel="wechat",
        idempotency_key="fresh-relative-0001",
    )
    after = pages(user)
    assert pay_link(enrollment) not in after[HISTORY]
    assert "缴费成功" in after[HISTORY]


def test_enrolling_shows_on_both_pages(commit):
    factories.policy("340100", 2027)
    user, _enrollment = citizen_with_registration()
    before = warm(user)
    assert "2027年度" not in before[COVERAGE]
    enrollment = commit(
        enrollment_services.enrollment_register_resident,
        actor=user,
        person=user.person,
        region="340100",
        year=2027,
        category="ordinary",
    )
    after = pages(user)
    assert "2027年度" in after[COVERAGE]
    assert pay_link(enrollment) in after[HISTORY]


def test_cancelling_an_enrollment_shows_on_both_pages(commit):
    user, enrollment = citizen_with_registration()
    before = warm(user)
    cancel = reverse("enrollment:cancel", args=[enrollment.pk])
    assert cancel in before[COVERAGE] and pay_link(enrollment) in before[HISTORY]
    commit(
        enrollment_services.enrollment_cancel, actor=user, enrollment_id=enrollment.pk
    )
    after = pages(user)
    assert cancel not in after[COVERAGE] and "已撤销" in after[COVERAGE]
    assert pay_link(enrollment) not in after[HISTORY]


@pytest.mark.parametrize("by", ["relative", "owner"])
def test_revoking_an_authority_takes_the_relative_off_both_sides_pages(commit, by):
    owner, _own = citizen_with_registration()
    relative_user, relative_enrollment = citizen_with_registration()
    relative = relative_user.person
    link = factories.family_link(owner.person, relative)
    # The relative holds an authority over the owner too: each sees the other.
    back = factories.family_link(relative, owner.person)
    before_owner, before_relative = warm(owner), warm(relative_user)
    assert relative.name in before_owner[COVERAGE]
    assert pay_link(relative_enrollment) in before_owner[HISTORY]
    assert owner.person.name in before_relative[COVERAGE]
    revoker = relative_user if by == "relative" else owner
    commit(people_services.authority_revoke, user=revoker, link_id=link.pk)
    commit(people_services.authority_revoke, user=revoker, link_id=back.pk)
    after_owner, after_relative = pages(owner), pages(relative_user)
    assert relative.name not in after_owner[COVERAGE]
    assert relative.name not in after_owner[HISTORY]
    assert owner.person.name not in after_relative[COVERAGE]
    assert owner.person.name not in after_relative[HISTORY]
    # Each still sees their own records.
    assert pay_link(relative_enrollment) in after_relative[HISTORY]


def test_accepting_an_authority_shows_the_relative(commit):
    owner, _own = citizen_with_registration()
    relative_user, relative_enrollment = citizen_with_registration()
    link = factories.family_link(
        owner.person, relative_user.person, status=AuthorityStatus.PENDING
    )
    before = warm(owner)
    assert relative_user.person.name not in before[COVERAGE]
    commit(
        people_services.authority_decide,
        user=relative_user,
        link_id=link.pk,
        accept=True,
    )
    assert FamilyLink.objects.get(pk=link.pk).status == AuthorityStatus.GRANTED
    after = pages(owner)
    assert relative_user.person.name in after[COVERAGE]
    assert pay_link(relative_enrollment) in after[HISTORY]


def test_an_authority_ending_at_midnight_leaves_the_pages_that_day(commit):
    owner, _own = citizen_with_registration()
    child = factories.PersonFactory(region=factories.region("340100"))
    factories.family_link(owner.person, child, ends_on=dt.date(2026, 10, 16))
    assert child.name in warm(owner)[COVERAGE]
    with time_machine.travel(
        dt.datetime(2026, 10, 16, 0, 0, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
        tick=False,
    ):
        assert child.name not in pages(owner)[COVERAGE]


def served_as_fresh(user, *names) -> dict[str, str]:
    """The pages as served (from the cache when warm) equal a fresh render."""
    served = pages(user, *names)
    versions_bump([user.pk])
    assert pages(user, *names) == served
    return served


def test_a_transfer_shows_on_coverage_as_it_goes(commit, settings):
    from tests.transfers.scenario import IN, apply_args, ready_person, set_processing

    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.0
    user = factories.UserFactory()
    person, _outgoing, _incoming = ready_person(person=user.person, actual=36)
    set_processing(IN, "manual")  # the incoming region completes by hand
    before = warm(user, COVERAGE)[COVERAGE]
    transfer = commit(transfer_services.transfer_apply, **apply_args(person))
    served_as_fresh(user)
    for _ in range(4):
        commit(transfer_services.transfers_scan, time_budget=1)
        served_as_fresh(user)
    transfer.refresh_from_db()
    assert transfer.status != "completed"
    in_transit = pages(user, COVERAGE)[COVERAGE]
    # The months left the outgoing region and are not yet credited.
    assert "实际缴费 36 个月，视同缴费 12 个月" in before
    assert "实际缴费 0 个月，视同缴费 0 个月" in in_transit
    commit(transfer_services.transfer_complete, transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.status == "completed"
    after = served_as_fresh(user)[COVERAGE]
    assert "实际缴费 36 个月，视同缴费 12 个月" in after


def test_months_moved_in_show_on_coverage(commit):
    user, _enrollment = citizen_with_registration()
    before = warm(user, COVERAGE)[COVERAGE]
    assert "实际缴费 0 个月" in before
    commit(
        enrollment_services.months_add,
        person_id=user.person.pk,
        region_code="340100",
        kind=MonthsKind.ACTUAL,
        months=24,
        reference="fresh-months-1",
    )
    assert "实际缴费 24 个月" in pages(user, COVERAGE)[COVERAGE]


def test_a_filing_leaves_no_page_stale(commit):
    """A filing writes no row the cached pages read: after it, the pages are
    what a fresh render shows."""
    from tests.records.conftest import covered

    user = factories.UserFactory(person__region=factories.region("340100"))
    covered(user.person, year=2026)
    warm(user)
    filing = commit(
        records_services.filing_create,
        actor=user,
        person_id=user.person.pk,
        reason="referral",
        destination_code="110000",
        start_on=dt.date(2026, 10, 15),
    )
    assert filing.pk
    served_as_fresh(user)


@pytest.mark.usefixtures("callbacks_via_client")
def test_a_flexible_months_payment_shows_on_coverage(commit):
    factories.policy("340100", 2026)
    user = factories.UserFactory(person__region=factories.region("340100"))
    enrollment = factories.EnrollmentFactory(
        person=user.person,
        year=2026,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base=Decimal("5000.00"),
    )
    before = warm(user)
    assert "已登记待缴费" in before[COVERAGE]
    commit(
        payment_services.payment_checkout,
        user=user,
        enrollment_id=enrollment.pk,
        channel="wechat",
        idempotency_key="fresh-flexible-0001",
    )
    after = pages(user)
    assert "正常参保" in after[COVERAGE]
    assert before[COVERAGE] != after[COVERAGE]
    assert "缴费成功" in after[HISTORY]


def test_a_policy_change_reaches_every_cached_page(commit):
    user, enrollment = citizen_with_registration()
    assert "2026-12-31" in warm(user, COVERAGE)[COVERAGE]
    from enrollment.models import Policy

    policy = Policy.objects.get(region_id="340100", year=2026)
    policy.benefit_end = dt.date(2026, 12, 30)
    commit(policy.save)
    assert "2026-12-30" in pages(user, COVERAGE)[COVERAGE]


def test_a_name_change_shows_at_once():
    user, _enrollment = citizen_with_registration()
    warm(user)
    user.person.name = "新名字"
    user.person.save(update_fields=["name"])
    assert all("新名字" in text for text in pages(user).values())


# --- Why a reader never keeps what it read before a commit -----------------


def test_a_body_read_before_the_writers_commit_is_never_served():
    parts = ("test", 1)
    # A reader takes the tokens, then reads the (old) rows …
    _payload, tokens = fragment_get(user_id=7, parts=parts)
    # … the writer commits and bumps …
    versions_bump([7])
    # … and the reader stores what it read: it is never served.
    fragment_set(user_id=7, parts=parts, tokens=tokens, payload="old")
    assert fragment_get(user_id=7, parts=parts)[0] is None


@pytest.mark.django_db(transaction=True)
def test_a_body_read_inside_the_writers_transaction_is_dropped_at_commit():
    parts = ("test", 2)
    with transaction.atomic():
        versions_bump([7])  # at the write
        # Another process reads now: new tokens, but the rows before commit.
        _payload, tokens = fragment_get(user_id=7, parts=parts)
        fragment_set(user_id=7, parts=parts, tokens=tokens, payload="old")
    # The bump after commit leaves that body behind.
    assert fragment_get(user_id=7, parts=parts)[0] is None


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_leaves_nothing_stale():
    parts = ("test", 3)
    _payload, tokens = fragment_get(user_id=7, parts=parts)
    fragment_set(user_id=7, parts=parts, tokens=tokens, payload="body")
    with pytest.raises(RuntimeError), transaction.atomic():
        versions_bump([7])
        raise RuntimeError
    # A miss (the bump at the write), recomputed from the unchanged rows.
    payload, tokens = fragment_get(user_id=7, parts=parts)
    assert payload is None and tokens is not None


def test_a_site_change_drops_every_users_bodies():
    for user_id in (1, 2):
        _payload, tokens = fragment_get(user_id=user_id, parts=("x",))
        fragment_set(user_id=user_id, parts=("x",), tokens=tokens, payload="body")
        assert fragment_get(user_id=user_id, parts=("x",))[0] == "body"
    site_changed()
    assert fragment_get(user_id=1, parts=("x",))[0] is None
    assert fragment_get(user_id=2, parts=("x",))[0] is None


@pytest.mark.django_db(transaction=True)
def test_pages_are_fresh_after_a_real_commit():
    factories.policy("340100", 2027)
    user, _enrollment = citizen_with_registration()
    assert "2027年度" not in warm(user, COVERAGE)[COVERAGE]
    enrollment_services.enrollment_register_resident(
        actor=user, person=user.person, region="340100", year=2027, category="ordinary"
    )
    assert "2027年度" in pages(user, COVERAGE)[COVERAGE]


def test_who_sees_a_person_is_asked_once_per_transaction_until_a_link_changes(
    django_assert_num_queries,
):
    from people.pagecache import family_changed, family_users

    owner = factories.UserFactory()
    relative = factories.UserFactory()
    with transaction.atomic():
        with django_assert_num_queries(1):
            family_changed(person_ids=[relative.person_id])
        with django_assert_num_queries(0):
            family_changed(person_ids=[relative.person_id])
        factories.family_link(owner.person, relative.person)
        assert family_users([relative.person_id]) == {owner.pk, relative.pk}
