import pytest

from core.errors import TransitionNotAllowed
from core.transitions import Edge, StateMachine

MACHINE = StateMachine(
    "thing",
    [
        Edge("new", "open", "open"),
        Edge("open", "done", "finish", "staff_finish"),
        Edge("open", "cancelled", "cancel"),
        Edge("new", "cancelled", "cancel"),
    ],
)


def test_an_action_leads_to_its_edges_target():
    assert MACHINE.target("open", action="finish") == "done"
    assert MACHINE.target("open", action="staff_finish") == "done"
    assert MACHINE.target("new", action="cancel") == "cancelled"


def test_an_action_not_on_an_edge_from_the_state_is_refused():
    with pytest.raises(TransitionNotAllowed):
        MACHINE.target("done", action="cancel")
    assert not MACHINE.can("new", action="finish")


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError):
        MACHINE.can("new", action="finsh")


def test_one_action_one_target_per_state():
    with pytest.raises(ValueError):
        StateMachine("bad", [Edge("a", "b", "go"), Edge("a", "c", "go")])


def test_sources_and_final_states():
    assert MACHINE.sources(action="cancel") == {"new", "open"}
    assert MACHINE.is_final("done") and not MACHINE.is_final("open")
    with pytest.raises(TransitionNotAllowed):
        MACHINE.check("open", "cancelled", action="finish")
