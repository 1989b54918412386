"""The population registry (户籍人口库) adapter: every place that creates or
claims a person asks it whether the name and number belong together (SPEC §1a).

A real deployment plugs in the province's public-security interface by naming
its class in settings.POPULATION_REGISTRY; `make run` and the tests use
SimulatedRegistry, which reads its own table and can be told (settings
REGISTRY_SIMULATION) to be unavailable or slow.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.errors import DomainError


class RegistryUnavailable(DomainError):
    """The registry did not answer: nothing is written, the citizen tries later."""

    code = "registry_unavailable"
    status = 503

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or _(
                "户籍人口库暂时无法核验身份，您填写的信息没有保存。请稍后再试，或到经办窗口办理。"
            )
        )


@dataclass(frozen=True)
class RegistryAnswer:
    """What the registry says of a (number, name) pair."""

    matches: bool
    # For a newborn: the parents the birth was registered with, and the
    # birth certificate number (出生医学证明编号), when the registry has them.
    mother_id_number: str = ""
    father_id_number: str = ""
    birth_certificate: str = ""

    def is_parent(self, id_number: str) -> bool:
        return bool(id_number) and id_number in (
            self.mother_id_number,
            self.father_id_number,
        )


class SimulatedRegistry:
    """The registry of `make run` and the tests: its own table
    (people.SimRegistryRecord), seeded with the demo people."""

    def lookup(self, *, id_number: str, name: str) -> RegistryAnswer:
        from .models import SimRegistryRecord

        simulation = getattr(settings, "REGISTRY_SIMULATION", {}) or {}
        delay = float(simulation.get("delay_seconds", 0) or 0)
        if delay:
            time.sleep(delay)
        if simulation.get("unavailable"):
            raise RegistryUnavailable()
        record = SimRegistryRecord.objects.filter(id_number=id_number).first()
        if record is None or record.name != name.strip():
            return RegistryAnswer(matches=False)
        return RegistryAnswer(
            matches=True,
            mother_id_number=record.mother_id_number,
            father_id_number=record.father_id_number,
            birth_certificate=record.birth_certificate,
        )


def registry():
    """The configured registry adapter."""
    return import_string(settings.POPULATION_REGISTRY)()


def registry_verify(*, id_number: str, name: str) -> RegistryAnswer:
    """The registry's answer for a real-name check; DomainError (beside the
    name field) when the name and number do not belong together. The message
    is the same whether the number is unknown or the name differs."""
    answer = registry().lookup(id_number=id_number, name=name)
    if not answer.matches:
        raise DomainError(
            _("姓名与身份证号未通过户籍人口库核验，请核对后重新填写。"),
            code="registry_mismatch",
            field="name",
        )
    return answer
