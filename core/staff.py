"""How an app's models appear to staff roles, declared by each app on its
AppConfig (`staff_site = StaffSite(...)`) and collected by portal.roles."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StaffSite:
    """Model names (lower case) of one app, by how staff roles treat them.

    - every model not hidden: all roles view it; clerks and supervisors add and
      change it unless it is a reference table or read-only;
    - reference: policy-like tables that supervisors edit and clerks only read;
    - read_only: written by services only, never edited in the admin;
    - hidden: never shown to any staff role (only the superuser).
    """

    reference: frozenset[str] = field(default_factory=frozenset)
    read_only: frozenset[str] = field(default_factory=frozenset)
    hidden: frozenset[str] = field(default_factory=frozenset)
    # Reference tables supervisors may change but not add (one row per region).
    no_add: frozenset[str] = field(default_factory=frozenset)
