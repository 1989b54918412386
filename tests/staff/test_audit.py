"""The audit trail: every staff change leaves a record (who, when, before and
after, numbers masked) that nobody can edit or delete in the admin; the
person concerned sees who viewed or changed their record."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from core.models import CalendarYear
from people.models import Person, StaffAccess
from tests.factories import PersonFactory, UserFactory


def _person_entries(person):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Person), object_pk=str(person.pk)
    )


def test_staff_change_of_a_person_is_audited_with_actor_before_after_and_masking(
    client, staff, regions
):
    person = PersonFactory(region=regions[0], mobile="13800001111")
    clerk = staff["clerk"]
    client.force_login(clerk)
    url = reverse("admin:people_person_change", args=[person.pk])
    response = client.post(url, {"mobile": "13912345678"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.mobile == "13912345678"
    entry = _person_entries(person).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == clerk
    assert entry.timestamp is not None
    before, after = entry.changes_dict["mobile"]
    assert (before, after) == ("138****1111", "139****5678")
    assert "13912345678" not in str(entry.changes) and person.id_number not in str(
        entry.serialized_data or ""
    )


def test_identity_numbers_are_masked_in_audit_records(staff, regions):
    from auditlog.context import set_actor

    person = PersonFactory(region=regions[0])
    with set_actor(staff["superuser"]):
        person.id_number = "11010519491231002X"
        person.save()
    entry = _person_entries(person).get(action=LogEntry.Action.UPDATE)
    old, new = entry.changes_dict["id_number"]
    assert new == "1101**********002X"
    assert "11010519491231002X" not in str(entry.changes)


def test_changes_without_a_staff_actor_are_left_to_the_event_tables(db, regions):
    # A worker or a citizen's own request: no audit row (each app's event rows record it).
    person = PersonFactory(region=regions[0])
    person.mobile = "13700000000"
    person.save()
    assert not _person_entries(person).filter(action=LogEntry.Action.UPDATE).exists()


def test_staff_login_change_never_records_a_password(client, staff, regions):
    from auditlog.context import set_actor

    user = staff["clerk_bj"]
    with set_actor(staff["superuser"]):
        user.set_password("another-Pass-987")
        user.first_name = "李"
        user.save()
    entry = LogEntry.objects.filter(
        object_pk=str(user.pk), action=LogEntry.Action.UPDATE
    ).latest("timestamp")
    assert "first_name" in entry.changes_dict
    assert "password" not in entry.changes_dict


@pytest.mark.parametrize("role", ["auditor", "superuser", "clerk", "supervisor"])
def test_audit_records_cannot_be_edited_or_deleted(client, staff, regions, role):
    person = PersonFactory(region=regions[0])
    entry = LogEntry.objects.log_create(
        person,
        action=LogEntry.Action.UPDATE,
        changes={"mobile": ["a", "b"]},
        force_log=True,
    )
    client.force_login(staff[role])
    change_url = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    delete_url = reverse("admin:auditlog_logentry_delete", args=[entry.pk])
    assert client.post(change_url, {"action": "0"}).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:auditlog_logentry_changelist")
    response = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert LogEntry.objects.filter(pk=entry.pk).exists()
    if role in ("auditor", "superuser"):
        assert client.get(change_url).status_code == 200  # they may read it
    else:
        assert response.status_code == 403  # region staff do not see the audit log


def test_viewing_changing_and_acting_on_a_person_is_shown_to_that_person(
    client, staff, regions
):
    citizen = UserFactory(person=PersonFactory(region=regions[0]))
    person = citizen.person
    clerk = staff["clerk"]
    client.force_login(clerk)
    url = reverse("admin:people_person_change", args=[person.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"mobile": "13600000000"}).status_code == 302
    actions = list(
        StaffAccess.objects.filter(person=person).values_list("action", "staff_id")
    )
    assert (StaffAccess.Action.VIEW, clerk.pk) in actions
    assert (StaffAccess.Action.CHANGE, clerk.pk) in actions

    client.force_login(citizen)
    inbox = client.get(reverse("people:inbox"))
    assert inbox.status_code == 200
    shown = list(inbox.context["accesses"])
    assert {a.action for a in shown} >= {"view", "change"}
    assert clerk.username in inbox.content.decode()


def test_an_admin_action_leaves_one_access_row_per_person(rf, staff, regions):
    from django.contrib import admin

    from people.admin_base import RegionScopedAdmin

    people = [PersonFactory(region=regions[0]) for _ in range(3)]
    seen = []

    def touch(modeladmin, request, queryset):
        seen.extend(queryset)

    touch.short_description = "办理测试"

    class Probe(RegionScopedAdmin):
        actions = [touch]

    probe = Probe(Person, admin.site)
    request = rf.post("/admin/")
    request.user = staff["clerk"]
    func, _name, _desc = probe.get_actions(request)["touch"]
    func(
        probe,
        request,
        probe.get_queryset(request).filter(pk__in=[p.pk for p in people]),
    )
    assert len(seen) == 3
    rows = StaffAccess.objects.filter(
        action=StaffAccess.Action.ACTION, staff=staff["clerk"]
    )
    assert sorted(rows.values_list("person_id", flat=True)) == sorted(
        p.pk for p in people
    )
    assert set(rows.values_list("what", flat=True)) == {"办理测试"}


def test_calendar_year_changes_are_audited(client, staff, regions):
    from core.models import CalendarDay

    CalendarDay.objects.create(date="2027-01-01", is_working_day=False, note="元旦")
    client.force_login(staff["supervisor"])
    response = client.post(
        reverse("admin:core_calendaryear_add"),
        {"year": 2027, "published": "on", "note": "国办发明电"},
    )
    assert response.status_code == 302
    year = CalendarYear.objects.get(year=2027)
    entry = LogEntry.objects.get(
        content_type=ContentType.objects.get_for_model(CalendarYear), object_pk="2027"
    )
    assert entry.action == LogEntry.Action.CREATE and entry.actor == staff["supervisor"]
    assert year.published
