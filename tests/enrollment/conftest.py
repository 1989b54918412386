import datetime as dt

import pytest

from tests import factories


@pytest.fixture
def hefei(db):
    for year in (2025, 2026, 2027):
        factories.policy("340100", year)
    return factories.region("340100")


@pytest.fixture
def beijing(db):
    for year in (2025, 2026, 2027):
        factories.policy("110000", year)
    return factories.region("110000")


@pytest.fixture
def citizen(db):
    return factories.UserFactory()


def active_enrollment(person, year, region_code="340100", scheme="resident", **fields):
    """A past enrollment that counts as a covered year."""
    defaults = (
        {"category": "ordinary"}
        if scheme == "resident"
        else {"contribution_base": "5000.00"}
    )
    defaults.update(fields)
    return factories.EnrollmentFactory(
        person=person,
        year=year,
        region=factories.region(region_code),
        scheme=scheme,
        status="active",
        **defaults,
    )


IN_WINDOW_2027 = dt.date(2026, 10, 15)
IN_WINDOW_2026 = dt.date(2025, 10, 15)
