"""On PostgreSQL (the real-services run): six 确认缴费 POSTs of one period from
six tabs at the same moment, each on its own connection, make exactly one
order; the database's "one live attempt per period" constraint holds it. The
test lives with the other submission tests (tests/payments/test_submit_statements.py,
where SQLite skips it); it is collected here so that CI runs it on PostgreSQL."""

import pytest

from tests.payments.test_submit_statements import (  # noqa: F401 - fixtures and the test
    _today,
    broker_in_memory,
    citizen_client,
    test_concurrent_posts_from_two_tabs_make_exactly_one_order,
)

pytestmark = pytest.mark.django_db(transaction=True)
