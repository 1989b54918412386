"""Every precondition of SPEC §8 refuses with its own reason code and says what to do."""

import pytest

from core.errors import DomainError
from enrollment.models import Enrollment, EnrollmentStatus
from tests import factories
from transfers import services
from transfers.models import Transfer

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db


def refused(args) -> DomainError:
    with pytest.raises(DomainError) as info:
        services.transfer_apply(**args)
    assert (
        Transfer.objects.filter(person_id=args["person_id"]).count() == 0
        or info.value.code == "transfer_open"
    )
    return info.value


def test_a_ready_person_may_apply():
    person, _out, _in = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    assert transfer.status == "submitted"


def test_outgoing_enrollment_not_suspended():
    person, _out, _in = ready_person(out_status=EnrollmentStatus.ACTIVE, in_year=2027)
    error = refused(apply_args(person))
    assert error.code == "outgoing_not_suspended"
    assert "暂停参保" in error.message


def test_incoming_enrollment_not_normal():
    person, _out, incoming = ready_person()
    Enrollment.objects.filter(pk=incoming.pk).update(status=EnrollmentStatus.SUSPENDED)
    error = refused(apply_args(person))
    assert error.code == "incoming_not_normal"
    assert "缴费" in error.message


def test_arrears_at_the_outgoing_region():
    person, _out, _in = ready_person()
    Enrollment.objects.create(
        person=person,
        region_id=OUT,
        scheme="resident",
        category="ordinary",
        year=2027,
        status=EnrollmentStatus.REGISTERED,
    )
    error = refused(apply_args(person))
    assert error.code == "outgoing_arrears"
    assert "缴清" in error.message


@pytest.mark.parametrize("change", ["name", "number"])
def test_name_or_number_mismatch(change):
    person, _out, _in = ready_person()
    args = apply_args(person)
    if change == "name":
        args["name"] = person.name + "甲"
    else:
        args["id_number"] = factories.PersonFactory.build().id_number
    error = refused(args)
    assert error.code == "identity_mismatch"
    assert error.field == "id_number"


def test_another_open_transfer():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    services.transfer_apply(**apply_args(person))
    error = refused(apply_args(person))
    assert error.code == "transfer_open"
    assert Transfer.objects.filter(person=person).count() == 1


def test_resident_to_resident_before_next_year_enrollment_at_incoming():
    person, _out, _in = ready_person(kind="r2r", in_year=2026)
    error = refused(apply_args(person, kind="r2r"))
    assert error.code == "resident_next_year_not_enrolled"
    assert "2027" in error.message


def test_resident_to_resident_after_next_year_enrollment_is_accepted():
    person, _out, _in = ready_person(kind="r2r")
    assert services.transfer_apply(**apply_args(person, kind="r2r")).kind == "r2r"


def test_no_enrollment_of_the_kind_at_the_outgoing_region():
    person, _out, _in = ready_person(kind="e2e")
    error = refused(apply_args(person, kind="r2e"))
    assert error.code == "no_outgoing_enrollment"


def test_no_enrollment_at_the_incoming_region():
    person, _out, incoming = ready_person()
    Enrollment.objects.filter(pk=incoming.pk).update(status=EnrollmentStatus.CANCELLED)
    error = refused(apply_args(person))
    assert error.code == "no_incoming_enrollment"


def test_same_region_both_sides():
    person, _out, _in = ready_person()
    error = refused(apply_args(person, into=OUT))
    assert error.code == "same_region"


def test_counter_application_only_by_staff_of_either_region():
    person, _out, _in = ready_person()
    stranger = factories.StaffFactory(region=factories.region("370200"))
    with pytest.raises(DomainError) as info:
        services.transfer_apply(
            **apply_args(person), applicant=stranger, channel="counter"
        )
    assert info.value.code == "wrong_region"
    clerk = factories.StaffFactory(region=factories.region(IN))
    transfer = services.transfer_apply(
        **apply_args(person), applicant=clerk, channel="counter"
    )
    assert transfer.channel == "counter" and transfer.applicant == clerk


def test_online_application_only_for_oneself_or_family():
    person, _out, _in = ready_person()
    stranger = factories.UserFactory()
    with pytest.raises(DomainError) as info:
        services.transfer_apply(**apply_args(person), applicant=stranger)
    assert info.value.code == "not_family"
