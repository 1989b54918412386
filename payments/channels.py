"""The portal's side of the outside payment channels: request a charge, ask
what became of it, refund it. Here every outside channel is the simulated
provider (payments.simulator); a real one would be an HTTP client with the
same three calls. Outcomes come back through the signed callback or `query`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class ChannelUnavailable(Exception):
    """The channel could not be reached; the outcome of the call is unknown."""


@dataclass(frozen=True)
class ChannelAnswer:
    status: str  # "processing", "success", "failed" or "unknown" (never received)
    transaction_id: str = ""
    amount: Decimal | None = None


def request_charge(*, channel: str, reference: str, amount: Decimal) -> str:
    """Ask the channel to charge `amount` for `reference`; returns its transaction
    id. Safe to repeat: the channel keys the request on our reference."""
    from . import simulator

    return simulator.provider_request(
        channel=channel, merchant_reference=reference, amount=amount
    )


def query(*, channel: str, reference: str) -> ChannelAnswer:
    from . import simulator

    found = simulator.provider_query(channel=channel, merchant_reference=reference)
    if found is None:
        return ChannelAnswer("unknown")
    return ChannelAnswer(found["status"], found["transaction_id"], found["amount"])


def refund(*, channel: str, reference: str, amount: Decimal) -> str:
    """原路退回 `amount` of the charge for `reference`; returns the refund id. Idempotent."""
    from . import simulator

    return simulator.provider_refund(
        channel=channel, merchant_reference=reference, amount=amount
    )
