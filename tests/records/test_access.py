"""The records actions that take an id, tried as every role of the access
matrix's world (tests/access/conftest.py): only those allowed act, and a
refused POST changes nothing, records included (the matrix's own snapshot in
tests/access/test_object_access.py does not know the records rows; its
GET_PAGES try the records pages)."""

import pytest
from django.test import Client

from people.models import Notification, ProxyAccess
from records.models import Filing, InsuranceCertificate
from tests.access.conftest import world  # noqa: F401 - the matrix's world
from tests.access.test_object_access import GET_PAGES, POSTS, ROLES, SEEN

pytestmark = pytest.mark.django_db

RECORDS_POSTS = [post for post in POSTS if post[0].startswith("records:")]


@pytest.fixture
def _today():
    """The matrix's world is built on the real date (it pays at a counter)."""
    yield


def test_the_matrix_tries_every_records_page_and_action():
    names = {page[0] for page in GET_PAGES} | {post[0] for post in POSTS}
    assert {
        "records:filing_detail",
        "records:filing_done",
        "records:filing_cancel",
        "records:filing_certificate",
        "records:certificate_issue",
        "records:certificate_detail",
        "records:certificate_pdf",
        "records:account_person",
        "records:years_person",
    } <= names
    assert {post[0] for post in RECORDS_POSTS} == {
        "records:filing_cancel",
        "records:certificate_issue",
    }


def refused(role, response) -> bool:
    if response.status_code in (403, 404):
        return True
    # Staff logins have no insured person: the citizen pages send them home.
    return (
        role.startswith("staff")
        and response.status_code == 302
        and response["Location"] == "/"
    )


def snapshot():
    return (
        sorted(Filing.objects.values_list("pk", "status")),
        InsuranceCertificate.objects.count(),
        ProxyAccess.objects.count(),
        Notification.objects.count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,url,data,rule", RECORDS_POSTS, ids=[p[0] for p in RECORDS_POSTS]
)
def test_records_action_is_taken_only_by_those_allowed(
    world,  # noqa: F811
    role,
    name,
    url,
    data,
    rule,
):
    target = url(world)
    before = snapshot()
    client = Client()
    client.force_login(world["users"][role])
    response = client.post(target, data)
    if rule(role) == SEEN:
        assert response.status_code == 302, (name, role, response.status_code)
        assert snapshot() != before
    else:
        assert refused(role, response), (name, role, response.status_code)
        assert snapshot() == before
