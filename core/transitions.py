"""State machines as tables: each edge says which actions may take it (as GOV.UK
Pay's PaymentGatewayStateTransitions does), so a service asks the table what an
action does from the current state instead of guarding `.status` by hand.

    PAYMENT_MACHINE = StateMachine("payment", [
        Edge(CREATED, STARTED, "start"),
        Edge(STARTED, SUCCESS, "settle", "counter_settle"),
        ...
    ])
    target = PAYMENT_MACHINE.target(payment.status, action="settle")  # raises if not allowed
    if PAYMENT_MACHINE.can(payment.status, action="settle"): ...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import TransitionNotAllowed


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    actions: frozenset[str]

    def __init__(self, source: str, target: str, *actions: str):
        if not actions:
            raise ValueError(f"edge {source} → {target} names no action")
        object.__setattr__(self, "source", str(source))
        object.__setattr__(self, "target", str(target))
        object.__setattr__(self, "actions", frozenset(actions))


class StateMachine:
    """The allowed edges of one kind of record, each labelled with the actions
    that may take it. An action leads from a state to at most one target."""

    def __init__(self, what: str, edges: Iterable[Edge], *, states: Iterable[str] = ()):
        self.what = what
        self.edges: tuple[Edge, ...] = tuple(edges)
        self._by_action: dict[tuple[str, str], str] = {}
        for edge in self.edges:
            for action in edge.actions:
                key = (edge.source, action)
                if key in self._by_action and self._by_action[key] != edge.target:
                    raise ValueError(
                        f"{what}: action {action!r} from {edge.source} has two targets"
                    )
                self._by_action[key] = edge.target
        self.states = frozenset(
            {
                *map(str, states),
                *(e.source for e in self.edges),
                *(e.target for e in self.edges),
            }
        )
        self.actions = frozenset(
            action for edge in self.edges for action in edge.actions
        )

    def target(self, current: str, *, action: str) -> str:
        """The state `action` leads to from `current`; TransitionNotAllowed if none."""
        if action not in self.actions:
            raise ValueError(f"{self.what}: unknown action {action!r}")
        try:
            return self._by_action[(str(current), action)]
        except KeyError:
            raise TransitionNotAllowed(
                f"{self.what}: {action} is not allowed from {current}"
            ) from None

    def can(self, current: str, *, action: str) -> bool:
        if action not in self.actions:
            raise ValueError(f"{self.what}: unknown action {action!r}")
        return (str(current), action) in self._by_action

    def check(self, current: str, target: str, *, action: str) -> None:
        """Raise unless `action` takes `current` → `target`."""
        if self.target(current, action=action) != str(target):
            raise TransitionNotAllowed(
                f"{self.what}: {action} leads from {current} elsewhere than {target}"
            )

    def sources(self, *, action: str) -> frozenset[str]:
        """The states from which `action` may be taken (for queries and queues)."""
        if action not in self.actions:
            raise ValueError(f"{self.what}: unknown action {action!r}")
        return frozenset(source for source, name in self._by_action if name == action)

    def targets(self, current: str) -> frozenset[str]:
        return frozenset(
            target
            for (source, _action), target in self._by_action.items()
            if source == str(current)
        )

    def is_final(self, current: str) -> bool:
        return not self.targets(current)
