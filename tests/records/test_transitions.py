"""FILING_MACHINE, edge by edge: every (state, action) pair is allowed exactly
where an edge says so, and each action is taken by a service."""

import itertools
from pathlib import Path

import pytest

from core.errors import TransitionNotAllowed
from records.models import FILING_MACHINE, FilingStatus

EDGES = {
    (FilingStatus.NEW, "file"): FilingStatus.ACTIVE,
    (FilingStatus.ACTIVE, "cancel"): FilingStatus.CANCELLED,
    (FilingStatus.ACTIVE, "expire"): FilingStatus.EXPIRED,
}


def test_the_machine_has_exactly_these_edges():
    assert FILING_MACHINE.actions == {"file", "cancel", "expire"}
    assert FILING_MACHINE.states == set(FilingStatus.values)
    found = {
        (edge.source, action): edge.target
        for edge in FILING_MACHINE.edges
        for action in edge.actions
    }
    assert found == EDGES


@pytest.mark.parametrize(
    ("state", "action"),
    list(itertools.product(FilingStatus.values, sorted(FILING_MACHINE.actions))),
)
def test_every_state_and_action(state, action):
    expected = EDGES.get((state, action))
    if expected is None:
        assert not FILING_MACHINE.can(state, action=action)
        with pytest.raises(TransitionNotAllowed):
            FILING_MACHINE.target(state, action=action)
    else:
        assert FILING_MACHINE.target(state, action=action) == expected


def test_cancelled_and_expired_are_final():
    assert FILING_MACHINE.is_final(FilingStatus.CANCELLED)
    assert FILING_MACHINE.is_final(FilingStatus.EXPIRED)


def test_each_action_is_taken_in_the_services():
    source = (
        Path(__file__).resolve().parents[2] / "records" / "services.py"
    ).read_text()
    for action in FILING_MACHINE.actions:
        assert f'action="{action}"' in source
