"""The bench's baselines do what their names promise (bench.urls)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tests import factories

pytestmark = pytest.mark.django_db


@override_settings(ROOT_URLCONF="bench.urls")
def test_the_chrome_baseline_renders_base_html_with_one_query_of_its_own(client):
    user = factories.UserFactory(person__name="基准")
    client.force_login(user)
    client.get("/bench/chrome/")  # warm: content types, translations
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/bench/chrome/")
    assert response.status_code == 200
    assert "基准" in response.content.decode()
    # The user and the page's one query: the session comes from the cache
    # (cached_db sessions).
    assert len(queries) == 2
