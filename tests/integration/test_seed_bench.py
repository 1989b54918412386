"""seed_bench on PostgreSQL: valid identity numbers, families, enrollments,
paid history and the 2027 work in flight that the benchmark cases consume."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bench.management.commands.seed_bench import BENCH_OWNER_USERNAME
from bench.seeding import family_range
from core.identity import parse_id_number
from enrollment.models import Enrollment
from payments.models import PaidPeriod, Payment, Receipt
from people.models import FamilyLink, Person, User

PERSONS = 90


@pytest.fixture
def seeded(db):
    call_command("seed_bench", persons=PERSONS)


def test_every_seeded_person_has_a_valid_unique_identity_number_matching_sex_and_birth(
    seeded,
):
    persons = list(Person.objects.all())
    assert len(persons) == PERSONS
    assert len({p.id_number for p in persons}) == PERSONS
    for person in persons:
        parsed = parse_id_number(person.id_number)
        assert parsed.sex == person.sex
        assert parsed.birth_date == person.birth_date


def test_families_of_three_with_one_login_each_and_the_bench_family_first(seeded):
    assert FamilyLink.objects.count() == 2 * (PERSONS // 3)
    assert User.objects.filter(role="citizen").count() == PERSONS // 3
    owner = User.objects.get(username=BENCH_OWNER_USERNAME)
    assert owner.person_id == 1
    assert set(
        FamilyLink.objects.filter(owner_id=1).values_list("relative_id", flat=True)
    ) == {2, 3}


def test_three_paid_years_for_everyone_and_ten_for_the_bench_family(seeded):
    active = Enrollment.objects.filter(status="active")
    assert active.filter(person_id=50).count() == 3
    assert sorted(active.filter(person_id=1).values_list("year", flat=True)) == list(
        range(2017, 2027)
    )
    assert Payment.objects.filter(status="success").count() == active.count()
    assert Receipt.objects.count() == active.count()
    assert PaidPeriod.objects.count() == active.count()


def test_2027_is_in_flight_registered_for_the_submit_group_and_awaiting_a_callback_for_the_other(
    seeded,
):
    first, last = family_range("submit", PERSONS)
    cb_first, cb_last = family_range("callback", PERSONS)
    registered = Enrollment.objects.filter(year=2027, status="registered")
    assert (
        registered.filter(person__id__range=(first, last), orders__isnull=True).count()
        == last - first + 1
    )
    submitted = Payment.objects.filter(status="submitted", channel="wechat")
    assert submitted.count() == min(cb_last, PERSONS) - cb_first + 1
    assert not submitted.filter(insured__id__range=(first, last)).exists()


def test_a_second_seed_of_the_same_size_does_nothing_and_a_larger_one_refuses_without_reset(
    seeded, capsys
):
    call_command("seed_bench", persons=PERSONS)
    assert "nothing to do" in capsys.readouterr().out
    assert Person.objects.count() == PERSONS
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_bench", persons=PERSONS * 2)
