import pytest


@pytest.fixture(autouse=True)
def _fast_simulation(settings):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.0
    settings.TRANSFER_CLAIM_LEASE_SECONDS = 30.0
