"""Every URL that takes an object id, tried as the object's owner, a family
member who holds their authority, a guardian whose authority still runs, one
allowed only to look, and those who hold none: a stranger, one whose request is
pending, declined or revoked, a guardian whose authority ended at the child's
18th birthday, staff of the object's region and of another region. Only the
allowed see it (the others get 404 or 403 — or, on the staff site, are sent
away without the page). Refused POSTs change nothing (SPEC §1a)."""

import pytest
from django.test import Client
from django.urls import get_resolver

from payments.models import FamilyBinding, Payment
from people.models import FamilyLink, Notification, ProxyAccess
from transfers.models import Transfer

pytestmark = pytest.mark.django_db

ROLES = (
    "owner",
    "family",
    "guardian",
    "viewer",
    "stranger",
    "pending",
    "declined",
    "revoked",
    "turned_18",
    "staff_here",
    "staff_elsewhere",
)
SEEN, REFUSED = "seen", "refused"
# Hold an authority with every scope / with the scope to look only.
ACTORS = ("owner", "family", "guardian")


def citizen_rule(role):
    """Pages that show records: those who may look."""
    return SEEN if role in (*ACTORS, "viewer") else REFUSED


def act_rule(role):
    """Pages and posts that act (pay, cancel, apply): those who may act."""
    return SEEN if role in ACTORS else REFUSED


def sheet_rule(role):
    return SEEN if role in (*ACTORS, "viewer", "staff_here") else REFUSED


def staff_rule(role):
    return SEEN if role == "staff_here" else REFUSED


# (name, url builder, rule) for GET pages.
GET_PAGES = [
    (
        "enrollment:done",
        lambda w: f"/enrollment/{w['enrollment'].pk}/done/",
        citizen_rule,
    ),
    (
        "enrollment:cancel",
        lambda w: f"/enrollment/{w['unpaid'].pk}/cancel/",
        act_rule,
    ),
    (
        "enrollment:suspend_confirm",
        lambda w: f"/enrollment/{w['enrollment'].pk}/suspend/",
        act_rule,
    ),
    (
        "enrollment:resume",
        lambda w: f"/enrollment/{w['enrollment'].pk}/resume/",
        act_rule,
    ),
    ("payments:pay", lambda w: f"/payments/pay/{w['unpaid'].pk}/", act_rule),
    ("payments:detail", lambda w: f"/payments/p/{w['payment'].pk}/", citizen_rule),
    (
        "payments:status",
        lambda w: f"/payments/p/{w['payment'].pk}/status/",
        citizen_rule,
    ),
    (
        "payments:receipt",
        lambda w: f"/payments/p/{w['payment'].pk}/receipt/",
        citizen_rule,
    ),
    (
        "payments:receipt_pdf",
        lambda w: f"/payments/p/{w['payment'].pk}/receipt.pdf",
        citizen_rule,
    ),
    ("transfers:detail", lambda w: f"/transfers/{w['transfer'].pk}/", citizen_rule),
    (
        "transfers:confirmation",
        lambda w: f"/transfers/{w['transfer'].pk}/done/",
        citizen_rule,
    ),
    (
        "transfers:status",
        lambda w: f"/transfers/{w['transfer'].pk}/status.json",
        citizen_rule,
    ),
    ("transfers:sheet", lambda w: f"/transfers/{w['transfer'].pk}/sheet/", sheet_rule),
    (
        "transfers:sheet_pdf",
        lambda w: f"/transfers/{w['transfer'].pk}/sheet.pdf",
        sheet_rule,
    ),
    (
        "admin payment",
        lambda w: f"/admin/payments/payment/{w['payment'].pk}/change/",
        staff_rule,
    ),
    (
        "admin enrollment",
        lambda w: f"/admin/enrollment/enrollment/{w['enrollment'].pk}/change/",
        staff_rule,
    ),
    (
        "admin person",
        lambda w: f"/admin/people/person/{w['enrollment'].person_id}/change/",
        staff_rule,
    ),
    # records: 异地就医备案, 参保证明, 个人账户, 缴费年限 (objects of _records below).
    (
        "records:filing_detail",
        lambda w: f"/records/filings/{_records(w)['filing'].pk}/",
        citizen_rule,
    ),
    (
        "records:filing_done",
        lambda w: f"/records/filings/{_records(w)['filing'].pk}/done/",
        citizen_rule,
    ),
    (
        "records:filing_cancel",
        lambda w: f"/records/filings/{_records(w)['filing'].pk}/cancel/",
        act_rule,
    ),
    (
        "records:filing_certificate",
        lambda w: f"/records/filings/{_records(w)['filing'].pk}/certificate.pdf",
        citizen_rule,
    ),
    (
        "records:certificate_detail",
        lambda w: f"/records/certificates/{_records(w)['certificate'].pk}/",
        citizen_rule,
    ),
    (
        "records:certificate_pdf",
        lambda w: (
            f"/records/certificates/{_records(w)['certificate'].pk}/certificate.pdf"
        ),
        citizen_rule,
    ),
    (
        "records:account_person",
        lambda w: f"/records/account/{w['enrollment'].person_id}/",
        citizen_rule,
    ),
    (
        "records:years_person",
        lambda w: f"/records/years/{w['enrollment'].person_id}/",
        citizen_rule,
    ),
]

# POSTs that act on an object: refused roles get 404/403 and nothing changes.
POSTS = [
    (
        "payments:retry",
        lambda w: f"/payments/p/{w['payment'].pk}/retry/",
        {"channel": "wechat", "idempotency_key": "x" * 20},
        act_rule,
    ),
    (
        "payments:binding_consent",
        lambda w: f"/payments/family/{w['binding'].pk}/consent/",
        {"accept": "1"},
        lambda role: SEEN if role == "owner" else REFUSED,
    ),
    (
        "payments:binding_unbind",
        lambda w: f"/payments/family/{w['binding'].pk}/unbind/",
        {},
        lambda role: SEEN if role == "owner" else REFUSED,
    ),
    (
        "transfers:cancel",
        lambda w: f"/transfers/{w['transfer'].pk}/cancel/",
        {},
        act_rule,
    ),
    (
        "enrollment:cancel",
        lambda w: f"/enrollment/{w['unpaid'].pk}/cancel/",
        {},
        act_rule,
    ),
    (
        "enrollment:suspend_confirm",
        lambda w: f"/enrollment/{w['enrollment'].pk}/suspend/",
        {"reason": "move", "step": "confirm"},
        act_rule,
    ),
    (
        "enrollment:resume",
        lambda w: f"/enrollment/{w['enrollment'].pk}/resume/",
        {},
        act_rule,
    ),
    # Only the person asked decides; the asker and the person asked may end it.
    (
        "people:authority_decide",
        lambda w: f"/family/{w['request'].pk}/decide/",
        {"decision": "accept", "scopes": ["view", "pay"]},
        lambda role: SEEN if role == "owner" else REFUSED,
    ),
    (
        "people:authority_revoke",
        lambda w: f"/family/{w['request'].pk}/revoke/",
        {},
        lambda role: SEEN if role in ("owner", "pending") else REFUSED,
    ),
    (
        "records:filing_cancel",
        lambda w: f"/records/filings/{_records(w)['filing'].pk}/cancel/",
        {},
        act_rule,
    ),
    (
        "records:certificate_issue",
        lambda w: f"/records/certificates/issue/{w['enrollment'].person_id}/",
        {},
        citizen_rule,
    ),
]

OBJECT_ID_ROUTES = {
    "enrollment:done",
    "enrollment:cancel",
    "enrollment:suspend_confirm",
    "enrollment:resume",
    "payments:pay",
    "payments:detail",
    "payments:status",
    "payments:retry",
    "payments:receipt",
    "payments:receipt_pdf",
    "payments:binding_consent",
    "payments:binding_unbind",
    "transfers:detail",
    "transfers:confirmation",
    "transfers:status",
    "transfers:cancel",
    "transfers:sheet",
    "transfers:sheet_pdf",
    "people:authority_decide",
    "people:authority_revoke",
    "records:filing_detail",
    "records:filing_done",
    "records:filing_cancel",
    "records:filing_certificate",
    "records:certificate_issue",
    "records:certificate_detail",
    "records:certificate_pdf",
    "records:account_person",
    "records:years_person",
}


def test_every_citizen_route_with_an_object_id_is_in_the_matrix():
    """A new URL with an <int:…> id must be added here (so it is tried as every role)."""
    found = set()
    for namespace in (
        "people",
        "enrollment",
        "payments",
        "transfers",
        "records",
        "portal",
    ):
        resolver = get_resolver().namespace_dict.get(namespace)
        if resolver is None:
            continue
        for pattern in resolver[1].url_patterns:
            if (
                "<int:" in str(pattern.pattern) or "<id:" in str(pattern.pattern)
            ) and pattern.name:
                found.add(f"{namespace}:{pattern.name}")
    assert found == OBJECT_ID_ROUTES


def user_for(world, role, name):
    if role == "owner" and name.startswith("transfers"):
        return world["transfer_owner"]
    return world["users"][role]


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def shown(response) -> bool:
    """The page (or file) was served to this user. Refusals are 404/403, or a
    redirect away (the staff site to its login/index; the citizen pages send a
    staff login, which has no insured person, to the home page)."""
    return response.status_code == 200


def refused_properly(role, name, response) -> bool:
    if response.status_code in (404, 403):
        return True
    if response.status_code == 302 and (
        role.startswith("staff") or name.startswith("admin")
    ):
        location = response["Location"]
        return (
            location == "/"
            or location.startswith("/admin/login")
            or location.rstrip("/") == "/admin"
        )
    return False


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,url,rule", GET_PAGES, ids=[page[0] for page in GET_PAGES]
)
def test_object_page_is_shown_only_to_those_allowed(world, role, name, url, rule):
    response = client_for(user_for(world, role, name)).get(url(world))
    expected = rule(role)
    assert shown(response) == (expected == SEEN), (
        f"{name} as {role}: {response.status_code}"
    )
    if expected == REFUSED:
        assert refused_properly(role, name, response), (
            f"{name} as {role}: {response.status_code}"
        )


def snapshot(world):
    return (
        Payment.objects.count(),
        list(FamilyBinding.objects.values_list("pk", "status")),
        list(Transfer.objects.values_list("pk", "status")),
        sorted(world["unpaid"].__class__.objects.values_list("pk", "status")),
        sorted(FamilyLink.objects.values_list("pk", "status", "scopes")),
        ProxyAccess.objects.count(),
        Notification.objects.count(),
    )


REFUSED_POSTS = [
    (role, *post) for post in POSTS for role in ROLES if post[3](role) == REFUSED
]


@pytest.mark.parametrize(
    "role,name,url,data,rule",
    REFUSED_POSTS,
    ids=[f"{post[1]}-{post[0]}" for post in REFUSED_POSTS],
)
def test_object_action_refused_to_others_changes_nothing(
    world, role, name, url, data, rule
):
    """(The allowed roles' actions are tested with each app.)"""
    before = snapshot(world)
    response = client_for(user_for(world, role, name)).post(url(world), data)
    assert refused_properly(role, name, response), (
        f"{name} as {role}: {response.status_code}"
    )
    assert snapshot(world) == before


def _records(w):
    """A temporary filing (异地就医备案) and a 参保证明 of the world's owner,
    made once per world (records' own tests check the rows stay unchanged
    after a refused POST: tests/records/test_access.py)."""
    import datetime as dt

    from records.models import Filing, FilingStatus, InsuranceCertificate

    if "records" not in w:
        person = w["enrollment"].person
        today = dt.date.today()
        w["records"] = {
            "filing": Filing.objects.create(
                person=person,
                kind="temporary",
                reason="other",
                insured_region_id="340100",
                destination_code="110000",
                destination_name="北京市",
                destination_region_id="110000",
                start_on=today,
                end_on=today + dt.timedelta(days=180),
                status=FilingStatus.ACTIVE,
                number="YD-MATRIX-0001",
                verification_code="MATRIXCODE23",
            ),
            "certificate": InsuranceCertificate.objects.create(
                person=person,
                number="CBZM-MATRIX-0001",
                verification_code="MATRIXCERT23",
                facts={"name": person.name, "id_masked": person.id_masked},
            ),
        }
    return w["records"]
