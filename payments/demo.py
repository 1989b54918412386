"""Demo payments for `make run` (called by seed_demo): 赵敏 (login 13800000006),
a flexible worker (灵活就业, employee insurance) who paid each month of this
year at the 合肥 counter (payments with receipts in her history; `counter_paid`
does the same for seed_demo's citizens), with a personal account balance
of ¥2,000.00, bound by 家庭共济 to her mother 孙桂兰 (login 13800000007), who
consented in her own account. The mother's 2025 premium was paid at the 合肥
counter (a receipt to download and verify); her current year waits to be paid
from 赵敏's personal account.

Idempotent: nothing is added when 赵敏 already exists. Everything goes through
the services, as citizens and staff would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

PASSWORD = "Demo-2026-yibao"
DAUGHTER = ("13800000006", "赵敏", "340103", dt.date(1986, 4, 18), 262)
MOTHER = ("13800000007", "孙桂兰", "340103", dt.date(1958, 9, 9), 284)


def _user(mobile, name, county, birth, seq):
    from core.identity import make_id_number
    from people import services
    from people.demo import demo_registry_add

    number = make_id_number(county, birth, seq)
    demo_registry_add(name=name, id_number=number)
    user = services.user_signup(
        name=name,
        id_number=number,
        mobile=mobile,
        password=PASSWORD,
    )
    services.person_region_set(person_id=user.person_id, region_code="340100")
    user.person.refresh_from_db()
    return user


def counter_paid(*, enrollment, on: dt.date, key: str):
    """Pay `enrollment`'s next unpaid period (a flexible worker's month, a
    resident's year) at its region's counter on the day `on`, through the
    payments services, so the history, the receipt and the cover all show it
    as if the citizen had paid then. None when the region has no clerk or the
    period is already paid (a database seeded before payments were recorded).

    The services date and price a payment by today's date (a month can only
    be paid in its month), so the demo's past is paid with the clock set to
    that day; `key` (idempotent) makes running the seed again a no-op."""
    import time_machine

    from core.errors import DomainError
    from people.models import Role, User

    from . import services

    clerk = (
        User.objects.filter(
            is_staff=True, role=Role.CLERK, region_id=enrollment.region_id
        )
        .order_by("pk")
        .first()
    )
    if clerk is None:
        return None
    moment = dt.datetime.combine(
        min(on, timezone.localdate()), dt.time(10, 0), timezone.get_current_timezone()
    )
    with time_machine.travel(moment, tick=False):
        try:
            return services.payment_counter(
                staff=clerk, enrollment_id=enrollment.pk, idempotency_key=key
            )
        except DomainError:
            return None


def seed() -> None:
    from enrollment import services as enrollment
    from people.models import User
    from people.services import authority_decide, family_member_request

    from . import services
    from .forms import new_key
    from .models import EntryKind

    if User.objects.filter(mobile=DAUGHTER[0]).exists():
        return
    today = timezone.localdate()
    year = today.year
    with transaction.atomic():
        daughter = _user(*DAUGHTER)
        mother = _user(*MOTHER)
        person = daughter.person
        flexible = enrollment.enrollment_register_flexible(
            actor=daughter,
            person=person,
            region="340100",
            year=year,
            base=Decimal("6000.00"),
            today=dt.date(year, 1, 5),
        )
        # Each month paid at the 合肥 counter on the 10th (in January, today).
        for month in range(1, max(today.month, 2)):
            counter_paid(
                enrollment=flexible,
                on=dt.date(year, month, 10),
                key=f"DEMO-PAY-{person.pk}-{year}-{month:02d}",
            )
        account = services.account_get_or_create(
            person_id=person.pk, region_code="340100"
        )
        services.account_post(
            account_id=account.pk,
            amount=Decimal("2000.00"),
            kind=EntryKind.CONTRIBUTION,
            reference=f"DEMO-PAY-{person.pk}-account",
        )
        # The daughter asks for authority; the mother accepts in her account.
        request = family_member_request(
            owner=person,
            id_number=mother.person.id_number,
            name=mother.person.name,
            relation="parent",
        )
        authority_decide(user=mother, link_id=request.pk, accept=True)
        binding = services.binding_request(
            authoriser=person,
            id_number=mother.person.id_number,
            name=mother.person.name,
            relation="parent",
        )
        services.binding_consent(user=mother, binding_id=binding.pk, accept=True)
    with transaction.atomic():
        past = enrollment.enrollment_register_resident(
            actor=mother,
            person=mother.person,
            region="340100",
            year=year - 1,
            category="ordinary",
            today=dt.date(year - 2, 10, 8),
        )
        clerk = User.objects.filter(username="hf_clerk").first()
        if clerk is not None:
            services.payment_counter(
                staff=clerk, enrollment_id=past.pk, idempotency_key=new_key()
            )
    with transaction.atomic():
        enrollment.enrollment_register_resident(
            actor=mother,
            person=mother.person,
            region="340100",
            year=year,
            category="ordinary",
            today=dt.date(year - 1, 10, 8),
        )
