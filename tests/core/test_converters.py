import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/payments/pay/99999999999999999999/",
        "/payments/p/9223372036854775808/",
        "/enrollment/99999999999999999999999/done/",
        "/transfers/18446744073709551616/",
        "/payments/p/0/",
    ],
)
def test_an_id_too_large_to_store_is_a_404_not_a_500(client, url):
    client.force_login(factories.UserFactory())
    assert client.get(url).status_code == 404


def test_a_real_id_still_resolves():
    assert reverse("payments:detail", args=[9223372036854775807]).endswith(
        "/9223372036854775807/"
    )
