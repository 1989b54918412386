"""The pages served from the cache (core.pagecache): statements per request,
cold (the body built) and warm (the body from the cache), the same for a
family of 1 and of 10.

Warm, a page runs one statement: the user (the session is read from the
cache). Cold, it runs the page's reads, a fixed number for any family."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from core.pagecache import versions_bump
from enrollment import services as enrollment_services
from enrollment.models import Scheme
from payments import services as payment_services
from tests import factories

pytestmark = pytest.mark.django_db

# Statements of a warm page: the user (AuthenticationMiddleware).
WARM = 1
COLD = {
    # user, authority, persons, orders paid, years, attempts, payable
    # enrollments, flexible paid months, flexible policies
    "payments:history": 9,
    # user, persons and relations (2), enrollments, policies, flexible months,
    # contribution ledger, authority to suspend and enroll
    "enrollment:coverage": 8,
}


@pytest.fixture(autouse=True)
def in_the_window():
    with time_machine.travel(
        dt.datetime(2026, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


def family_of(size: int):
    """A user and size - 1 relatives, each with a paid residents' year, a
    registered next year, an active flexible year and contribution months."""
    for year in (2026, 2027):
        factories.policy("340100", year)
    clerk = factories.StaffFactory()
    user = factories.UserFactory()
    members = [user.person]
    for _ in range(size - 1):
        relative = factories.PersonFactory()
        factories.family_link(user.person, relative)
        members.append(relative)
    for n, person in enumerate(members):
        paid = factories.EnrollmentFactory(person=person, year=2026)
        payment_services.payment_counter(
            staff=clerk,
            enrollment_id=paid.pk,
            idempotency_key=f"family-{n:04d}-abcdefgh",
        )
        enrollment_services.enrollment_register_resident(
            actor=user, person=person, region="340100", year=2027, category="ordinary"
        )
        factories.EnrollmentFactory(
            person=person,
            year=2025,
            scheme=Scheme.FLEXIBLE,
            category="",
            contribution_base=Decimal("5000.00"),
            status="active",
            coverage_start=dt.date(2025, 3, 1),
        )
        enrollment_services.months_add(
            person_id=person.pk,
            region_code="340100",
            kind="actual",
            months=12,
            reference=f"q{n}",
        )
    return user


def counts(client, django_assert_num_queries, user, url_name, cold, warm):
    url = reverse(url_name)
    client.force_login(user)
    # The first visit of the day also records who looked at whose records
    # (a family's only): warmed here, so both sizes start alike.
    assert client.get(url).status_code == 200
    versions_bump([user.pk])
    with django_assert_num_queries(cold):
        assert client.get(url).status_code == 200
    with django_assert_num_queries(warm):
        response = client.get(url)
    assert response.status_code == 200
    client.logout()
    return response


@pytest.mark.parametrize("url_name", list(COLD))
@pytest.mark.parametrize("size", [1, 10])
def test_cached_page_statements_do_not_grow_with_the_family(
    client, django_assert_num_queries, url_name, size
):
    response = counts(
        client,
        django_assert_num_queries,
        family_of(size),
        url_name,
        COLD[url_name],
        WARM,
    )
    assert response.content.decode().count("测试") >= size


# --- The per-language memos say what Django says ---------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_and_days_read_as_djangos_own(language):
    from django.template.defaultfilters import date as date_filter
    from django.utils import translation

    from core.templatetags.portal_tags import choice_label, day
    from enrollment.models import Enrollment, EnrollmentStatus, SuspendReason

    with translation.override(language):
        for status in EnrollmentStatus.values:
            enrollment = Enrollment(status=status, scheme=Scheme.FLEXIBLE)
            assert choice_label(enrollment, "status") == (
                enrollment.get_status_display()
            )
            assert choice_label(enrollment, "scheme") == (
                enrollment.get_scheme_display()
            )
        for reason in list(SuspendReason.values) + ["", "unknown"]:
            enrollment = Enrollment(suspend_reason=reason)
            assert choice_label(enrollment, "suspend_reason") == (
                enrollment.get_suspend_reason_display()
            )
        for value in (dt.date(2026, 3, 1), dt.date(2026, 12, 31)):
            assert day(value) == date_filter(value, "Y-m-d")
            assert day(value, "DATE_FORMAT") == date_filter(value, "DATE_FORMAT")
        assert day(None) == "" and day("") == ""


def test_the_cached_chrome_carries_each_requests_token_and_path(client):
    user = factories.UserFactory()
    client.force_login(user)
    pages = [
        client.get(reverse("payments:history"), {"year": year}).content.decode()
        for year in ("2025", "2026")
    ]
    for page, year in zip(pages, ("2025", "2026"), strict=True):
        assert f'name="next" value="/payments/?year={year}"' in page
        token = client.cookies["csrftoken"].value
        assert page.count('name="csrfmiddlewaretoken"') == 3  # out, language, care
        assert token  # the cookie the tokens are checked against was set
    other = Client()
    other_page = other.get(reverse("people:login")).content.decode()
    assert "退出" not in other_page and reverse("people:signup") in other_page
