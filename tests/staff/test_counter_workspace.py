"""The counter workspace (portal/staff/counter.py) × every staff role × own /
other region: which pages each role sees, which acts each may take, and that
a refused act writes nothing. Like the admin matrix (test_admin_matrix.py),
for the staff site's own pages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from enrollment.models import Enrollment, EnrollmentStatus
from payments import services as payments
from payments.models import DayClose, Payment
from people.models import SmsCode, StaffAccess
from tests.factories import EnrollmentFactory, PersonFactory, StaffFactory, UserFactory

ROLES = ["clerk", "supervisor", "clerk_bj", "auditor", "superuser", "no_region"]


def _side(region_obj, name, mobile):
    """A person of `region_obj` with an account, a paid 2026 enrollment (its
    payment and receipt) and an unpaid 2027 one."""
    account = UserFactory(
        person=PersonFactory(region=region_obj, name=name), mobile=mobile
    )
    person = account.person
    paid = EnrollmentFactory(person=person, region=region_obj, year=2026)
    payment = payments.counter_payment_take(
        staff=StaffFactory(region=region_obj),
        enrollment_id=paid.pk,
        idempotency_key=f"world-{region_obj.code}-key-0001",
        tender="cash",
    )
    unpaid = EnrollmentFactory(person=person, region=region_obj, year=2027)
    return SimpleNamespace(
        person=person, paid=paid, unpaid=unpaid, payment=payment, account=account
    )


@pytest.fixture
def world(staff, regions):
    hefei, beijing, _qingdao = regions
    return SimpleNamespace(
        hefei=_side(hefei, "合肥甲", "13900000001"),
        beijing=_side(beijing, "北京乙", "13900000002"),
    )


# (name, url builder, {role: status}) — roles not named are refused with 403.
def _seen_by(*roles, other=404):
    expected = dict.fromkeys(roles, 200)
    expected.setdefault("clerk_bj", other)
    return expected


GET_PAGES = [
    (
        "counter",
        lambda w: reverse("staff:counter"),
        _seen_by("clerk", "supervisor", "clerk_bj", "auditor", "superuser"),
    ),
    (
        "counter_person_detail",
        lambda w: reverse("staff:counter_person_detail", args=[w.hefei.person.pk]),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
    (
        "counter_pay",
        lambda w: reverse("staff:counter_pay") + f"?number={w.hefei.unpaid.reference}",
        _seen_by("clerk", "supervisor", "superuser"),
    ),
    (
        "counter_receipt",
        lambda w: reverse("staff:counter_receipt", args=[w.hefei.payment.pk]),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
    (
        "counter_receipt_pdf",
        lambda w: reverse("staff:counter_receipt_pdf", args=[w.hefei.payment.pk]),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
    (
        "counter_day",
        lambda w: reverse("staff:counter_day"),
        _seen_by("clerk", "supervisor", "clerk_bj", "superuser"),
    ),
    (
        "day_close",
        lambda w: reverse("staff:day_close"),
        _seen_by("supervisor", "auditor", "superuser", other=403),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,url,expected", GET_PAGES, ids=[page[0] for page in GET_PAGES]
)
def test_counter_page_is_shown_only_to_the_roles_and_region_allowed(
    client, staff, world, role, name, url, expected
):
    client.force_login(staff[role])
    response = client.get(url(world))
    assert response.status_code == expected.get(role, 403), (name, role)
    if response.status_code != 200:
        # A refusal never shows the person it would have shown.
        assert "合肥甲" not in response.content.decode()


def _snapshot(world):
    return (
        Payment.objects.count(),
        DayClose.objects.count(),
        SmsCode.objects.count(),
        sorted(Enrollment.objects.values_list("pk", "status")),
        StaffAccess.objects.filter(action=StaffAccess.Action.ACTION).count(),
    )


def _pay_data(world):
    total = payments.quote_for_enrollment(enrollment_id=world.hefei.unpaid.pk).total
    return {
        "confirm": "1",
        "number": world.hefei.unpaid.reference,
        "months": "1",
        "expected_total": str(total),
        "idempotency_key": "matrix-confirm-key-0001",
        "tender": "card",
    }


# (name, url builder, data builder, roles allowed, what an allowed POST did)
POSTS = [
    (
        "counter_suspend",
        lambda w: reverse("staff:counter_suspend", args=[w.hefei.person.pk]),
        lambda w: {
            "enrollment": w.hefei.paid.pk,
            "reason": "employee",
            "evidence": "单位参保证明 No.123",
        },
        ("clerk", "supervisor", "superuser"),
        lambda w: (
            Enrollment.objects.get(pk=w.hefei.paid.pk).status
            == EnrollmentStatus.SUSPENDED
        ),
    ),
    (
        "counter_password_reset",
        lambda w: reverse("staff:counter_password_reset", args=[w.hefei.person.pk]),
        lambda w: {},
        ("clerk", "supervisor", "superuser"),
        lambda w: SmsCode.objects.filter(mobile="13900000001").exists(),
    ),
    (
        "counter_pay",
        lambda w: reverse("staff:counter_pay"),
        _pay_data,
        ("clerk", "supervisor", "superuser"),
        lambda w: Payment.objects.filter(
            order__enrollment=w.hefei.unpaid, status="success", tender__method="card"
        ).exists(),
    ),
    (
        "day_close",
        lambda w: reverse("staff:day_close"),
        lambda w: {
            "day": w.hefei.payment.settled_at.astimezone().date().isoformat(),
            "region": "340100",
            "clerk": w.hefei.payment.created_by_id,
            "cash": str(w.hefei.payment.amount),
            "card": "0",
        },
        ("supervisor", "superuser"),
        lambda w: DayClose.objects.filter(clerk=w.hefei.payment.created_by).exists(),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,url,data,allowed,done", POSTS, ids=[post[0] for post in POSTS]
)
def test_counter_act_is_taken_only_by_the_roles_and_region_allowed(
    client, staff, world, role, name, url, data, allowed, done
):
    client.force_login(staff[role])
    payload = data(world)
    before = _snapshot(world)
    response = client.post(url(world), payload)
    if role in allowed:
        assert response.status_code == 302, (name, role, response.status_code)
        assert done(world), (name, role)
    else:
        assert response.status_code in (403, 404), (name, role, response.status_code)
        assert _snapshot(world) == before, (name, role)
        assert not done(world)


def test_other_regions_person_is_not_found_by_any_search(client, staff, world):
    client.force_login(staff["clerk"])
    beijing = world.beijing
    for data in (
        {"term": beijing.person.id_number},
        {"term": beijing.unpaid.reference},
        {"term": beijing.payment.receipt.number},
        {"name": beijing.person.name, "birth_date": "1990-01-01"},
    ):
        response = client.post(reverse("staff:counter"), data, follow=True)
        assert response.status_code == 200
        assert response.context["results"] == [], data
        page = response.content.decode()
        assert (
            reverse("staff:counter_person_detail", args=[beijing.person.pk]) not in page
        )
        assert "本统筹区没有找到此人" in page


@pytest.mark.parametrize("how", ["id_number", "lower_x", "enrollment", "receipt"])
def test_each_number_a_citizen_holds_opens_their_page(client, staff, world, how):
    hefei = world.hefei
    term = {
        "id_number": hefei.person.id_number,
        "lower_x": " " + hefei.person.id_number.lower() + " ",
        "enrollment": hefei.unpaid.reference.lower(),
        "receipt": hefei.payment.receipt.number,
    }[how]
    client.force_login(staff["clerk"])
    response = client.post(reverse("staff:counter"), {"term": term})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff:counter_person_detail", args=[hefei.person.pk]
    )


def test_search_by_name_needs_the_birth_date_and_keeps_the_term_out_of_the_url(
    client, staff, world, regions
):
    twin = PersonFactory(region=regions[0], name="合肥甲")
    client.force_login(staff["clerk"])
    missing = client.post(reverse("staff:counter"), {"name": "合肥甲"})
    assert missing.status_code == 400
    assert "出生日期" in missing.content.decode()
    both = client.post(
        reverse("staff:counter"), {"name": "合肥甲", "birth_date": "1990-01-01"}
    )
    assert both.status_code == 302
    assert "合肥甲" not in both["Location"] and "qk=" in both["Location"]
    listing = client.get(both["Location"])
    assert {p.pk for p in listing.context["results"]} == {
        world.hefei.person.pk,
        twin.pk,
    }
    page = listing.content.decode()
    assert world.hefei.person.id_masked in page
    assert world.hefei.person.id_number not in page


def test_a_wrong_number_is_explained_beside_the_field(client, staff, world):
    client.force_login(staff["clerk"])
    wrong_check = client.post(reverse("staff:counter"), {"term": "340104199001011237"})
    assert wrong_check.status_code == 400
    assert "第18位校验码不正确" in wrong_check.content.decode()
    short_cb = client.post(reverse("staff:counter"), {"term": "CB2027"})
    assert short_cb.status_code == 400
    assert "参保登记编号应为CB" in short_cb.content.decode()
    empty = client.post(reverse("staff:counter"), {})
    assert empty.status_code == 400


def test_person_page_shows_the_whole_record_masked_and_is_recorded(
    client, staff, world
):
    hefei = world.hefei
    relative = PersonFactory(region=hefei.person.region, name="家属丙")
    from tests.factories import family_link

    family_link(relative, hefei.person, "parent")
    client.force_login(staff["clerk"])
    response = client.get(
        reverse("staff:counter_person_detail", args=[hefei.person.pk])
    )
    page = response.content.decode()
    assert hefei.paid.reference in page and hefei.unpaid.reference in page
    assert hefei.payment.reference in page and hefei.payment.receipt.number in page
    assert "¥" in page and "现金" in page and "正常参保" in page
    assert "家属丙" in page and "已授权" in page
    assert hefei.person.id_masked in page and hefei.person.id_number not in page
    assert "139****0001" in page and "13900000001" not in page
    # The pay link carries the enrollment number, never an identity number.
    assert f"?number={hefei.unpaid.reference}" in page
    assert StaffAccess.objects.filter(
        person=hefei.person, staff=staff["clerk"], action="view"
    ).exists()


def test_auditor_sees_the_person_page_without_any_action(client, staff, world):
    client.force_login(staff["auditor"])
    page = client.get(
        reverse("staff:counter_person_detail", args=[world.beijing.person.pk])
    ).content.decode()
    assert "北京乙" in page
    for action in ("counter_suspend", "counter_password_reset"):
        assert reverse(f"staff:{action}", args=[world.beijing.person.pk]) not in page
    assert reverse("staff:counter_pay") + "?number" not in page


def test_suspension_on_evidence_is_recorded_with_clerk_evidence_and_time(
    client, staff, world
):
    hefei = world.hefei
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_suspend", args=[hefei.person.pk]),
        {"enrollment": hefei.paid.pk, "reason": "employee", "evidence": "单位证明A1"},
    )
    assert response.status_code == 302
    event = hefei.paid.events.order_by("-at", "-id").first()
    assert event.to_status == "suspended" and event.actor == staff["clerk"]
    access = StaffAccess.objects.get(
        person=hefei.person, staff=staff["clerk"], action="action"
    )
    assert "单位证明A1" in access.what and hefei.paid.reference in access.what
    assert access.at is not None


def test_suspension_without_evidence_is_refused_beside_the_field(client, staff, world):
    hefei = world.hefei
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_suspend", args=[hefei.person.pk]),
        {"enrollment": hefei.paid.pk, "reason": "employee", "evidence": " "},
    )
    assert response.status_code == 400
    assert "核验的材料" in response.content.decode()
    assert Enrollment.objects.get(pk=hefei.paid.pk).status == "active"


def test_an_unpaid_enrollment_cannot_be_suspended_from_the_page(client, staff, world):
    hefei = world.hefei
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_suspend", args=[hefei.person.pk]),
        {"enrollment": hefei.unpaid.pk, "reason": "employee", "evidence": "证明"},
    )
    assert response.status_code == 400
    assert Enrollment.objects.get(pk=hefei.unpaid.pk).status == "registered"


def test_password_reset_sends_a_code_to_the_citizen_and_shows_no_password(
    client, staff, world
):
    from people.models import SimSmsMessage

    hefei = world.hefei
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_password_reset", args=[hefei.person.pk]), follow=True
    )
    page = response.content.decode()
    assert "139****0001" in page and "验证码" in page
    message = SimSmsMessage.objects.get(mobile="13900000001")
    code = message.text.split("验证码为")[1][:6]
    assert code not in page
    assert StaffAccess.objects.filter(
        person=hefei.person, action="action", what__contains="找回密码"
    ).exists()
    # A second press within the minute is refused, and says so.
    again = client.post(reverse("staff:counter_password_reset", args=[hefei.person.pk]))
    assert again.status_code == 400
    assert "一分钟" in again.content.decode()
    assert SmsCode.objects.filter(mobile="13900000001").count() == 1


def test_a_person_without_an_account_is_offered_no_password_reset(
    client, staff, regions
):
    walk_in = PersonFactory(region=regions[0])
    client.force_login(staff["clerk"])
    url = reverse("staff:counter_password_reset", args=[walk_in.pk])
    page = client.get(
        reverse("staff:counter_person_detail", args=[walk_in.pk])
    ).content.decode()
    assert url not in page
    response = client.post(url)
    assert response.status_code == 400
    assert not SmsCode.objects.exists()


def test_admin_index_links_the_counter_first(client, staff, regions):
    client.force_login(staff["clerk"])
    page = client.get(reverse("admin:index")).content.decode()
    content = page[page.index('id="content-main"') :]
    first_link = content.index('href="/admin/')
    assert content[first_link:].startswith(f'href="{reverse("staff:counter")}"')


def test_registering_a_walk_in_leads_to_their_counter_page(client, staff, regions):
    import datetime as dt

    from core.identity import make_id_number
    from tests.factories import registry_person

    number = make_id_number("340104", dt.date(1950, 3, 4), 31)
    registry_person(name="李奶奶", id_number=number)
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_person"), {"name": "李奶奶", "id_number": number}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "李奶奶" in page and "没有参保登记" in page
