"""Staff pages: the destination region's staff see filings into their region
(or into its whole province) and no other; nobody edits a filing by hand;
supervisors edit their region's contribution-years requirement."""

import pytest
from django.urls import reverse

from people.models import Role
from records import services
from records.models import Filing, LifetimeRequirement
from tests import factories

from .conftest import BEIJING, FUZHOU, HEFEI, QINGDAO, TODAY, covered

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:records_filing_changelist"


def staff(client, code, role=Role.CLERK):
    user = factories.StaffFactory(region=factories.region(code), role=role)
    client.force_login(user)
    return user


def filing_into(destination, *, region=HEFEI):
    user = factories.UserFactory()
    covered(user.person, region=region)
    return services.filing_create(
        actor=user,
        person_id=user.person.pk,
        reason="other",
        destination_code=destination,
        start_on=TODAY,
    )


def test_filings_are_seen_by_the_destination_region_only(client, regions):
    to_beijing = filing_into(BEIJING)
    for code, seen in ((BEIJING, True), (QINGDAO, False), (HEFEI, False)):
        staff(client, code)
        body = client.get(reverse(CHANGELIST)).content.decode()
        assert (to_beijing.number in body) is seen, code
        change = client.get(
            reverse("admin:records_filing_change", args=[to_beijing.pk])
        )
        assert (change.status_code == 200) is seen, code


def test_a_filing_into_a_whole_province_is_seen_by_its_cities(client, regions):
    to_shandong = filing_into("370000")
    to_fujian = filing_into("350000")
    staff(client, QINGDAO)
    body = client.get(reverse(CHANGELIST)).content.decode()
    assert to_shandong.number in body and to_fujian.number not in body
    staff(client, FUZHOU)
    body = client.get(reverse(CHANGELIST)).content.decode()
    assert to_fujian.number in body and to_shandong.number not in body


def test_auditors_see_every_region(client, regions):
    filings = [filing_into(BEIJING), filing_into("370000", region=FUZHOU)]
    auditor = factories.StaffFactory(role=Role.AUDITOR, region=None)
    client.force_login(auditor)
    body = client.get(reverse(CHANGELIST)).content.decode()
    assert all(f.number in body for f in filings)


def test_nobody_edits_a_filing_by_hand(client, regions):
    filing = filing_into(BEIJING)
    staff(client, BEIJING, role=Role.SUPERVISOR)
    url = reverse("admin:records_filing_change", args=[filing.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert filing.person.id_number not in page.content.decode()
    client.post(url, {"status": "cancelled"})
    filing.refresh_from_db()
    assert filing.status == "active"
    assert client.get(reverse("admin:records_filing_add")).status_code == 403


def test_supervisors_set_their_regions_requirement(client, regions):
    staff(client, QINGDAO, role=Role.SUPERVISOR)
    response = client.post(
        reverse("admin:records_lifetimerequirement_add"),
        {
            "region": QINGDAO,
            "men_months": "360",
            "women_months": "300",
            "local_actual_months": "180",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert LifetimeRequirement.objects.get(region_id=QINGDAO).men_months == 360
    staff(client, QINGDAO, role=Role.CLERK)
    assert (
        client.get(reverse("admin:records_lifetimerequirement_add")).status_code == 403
    )


def test_queue_filters_by_status(client, regions):
    filing = filing_into(BEIJING)
    staff(client, BEIJING)
    body = client.get(reverse(CHANGELIST), {"status__exact": "cancelled"})
    assert filing.number not in body.content.decode()
    assert Filing.objects.count() == 1
