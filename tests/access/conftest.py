"""The world of objects the access tests try: an owner, a family member who
acts for them, a stranger, staff of the objects' region and of another."""

import datetime as dt

import pytest

from payments import services as payments
from payments.models import BindingStatus, FamilyBinding
from people.models import AuthorityBasis, AuthorityStatus, Role, Scope
from tests.factories import (
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
    family_link,
    region,
)
from tests.transfers.scenario import IN, OUT, ready_person
from transfers import services as transfers


@pytest.fixture
def world(db):
    """Two insured persons, each with an owner login and a family member who added
    them; their enrollment, a paid payment with its receipt, a binding, and a
    transfer with its information sheet; a stranger; staff of 合肥 and of 青岛."""
    hefei, qingdao = region(OUT), region("370200")
    region(IN)
    owner = UserFactory(person__region=hefei)
    family = UserFactory(person__region=hefei)
    family_link(family.person, owner.person)
    stranger = UserFactory(person__region=hefei)
    staff_here = StaffFactory(role=Role.CLERK, region=hefei)
    staff_elsewhere = StaffFactory(role=Role.CLERK, region=qingdao)

    enrollment = EnrollmentFactory(person=owner.person, year=2026)
    unpaid = EnrollmentFactory(person=owner.person, year=2027)
    payment = payments.payment_counter(
        staff=staff_here,
        enrollment_id=enrollment.pk,
        idempotency_key="access-counter-key-01",
    )
    assert payment.status == "success"
    authoriser = UserFactory(person__region=hefei)
    binding = FamilyBinding.objects.create(
        authoriser=authoriser.person,
        relative=owner.person,
        relation="child",
        status=BindingStatus.PENDING,
    )

    mover, _out, _in = ready_person(kind="e2e")
    mover_user = UserFactory(person=mover)
    family_link(family.person, mover)
    transfer = transfers.transfer_apply(
        person_id=mover.pk,
        name=mover.name,
        id_number=mover.id_number,
        kind="e2e",
        outgoing_region_code=OUT,
        incoming_region_code=IN,
    )
    for _step in range(2):  # accepted, then the sheet issued (the simulated office)
        transfers.transfer_run_step(transfer_id=transfer.pk, claimed=True)
    transfer.refresh_from_db()
    assert transfer.status == "sheet_issued"

    # Everyone who asked, was refused, lost or never had authority, and the
    # ones who hold it: each over the owner and over the transfer's person.
    today = dt.date.today()
    kinds = {
        "pending": {"status": AuthorityStatus.PENDING},
        "declined": {"status": AuthorityStatus.DECLINED},
        "revoked": {"status": AuthorityStatus.REVOKED},
        # Granted to see records only: may look, may not act.
        "viewer": {"scopes": [Scope.VIEW]},
        # A guardian's proven authority, still running / ended at 18.
        "guardian": {
            "basis": AuthorityBasis.HOUSEHOLD_REGISTER,
            "ends_on": today + dt.timedelta(days=30),
        },
        "turned_18": {
            "basis": AuthorityBasis.BIRTH_CERTIFICATE,
            "ends_on": today - dt.timedelta(days=1),
        },
    }
    holders = {}
    links = {}
    for name, options in kinds.items():
        holders[name] = UserFactory(person__region=hefei)
        for subject in (owner.person, mover):
            links[(name, subject.pk)] = family_link(
                holders[name].person, subject, relation="sibling", **options
            )

    users = {
        "owner": owner,
        "family": family,
        "stranger": stranger,
        "staff_here": staff_here,
        "staff_elsewhere": staff_elsewhere,
        **holders,
    }
    return {
        "users": users,
        "transfer_owner": mover_user,
        "enrollment": enrollment,
        "unpaid": unpaid,
        "payment": payment,
        "binding": binding,
        "transfer": transfer,
        "request": links[("pending", owner.person.pk)],
    }
