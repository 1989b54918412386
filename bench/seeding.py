"""The parts of seed_bench that depend on the payments and transfers apps:
a successful payment (order, attempt, event, paid period, receipt) for every
seeded enrollment, and the benefit year 2027 in flight:

- "submit" families: 2027 enrollments registered and unpaid (the payment
  submission case pays them, one POST each);
- "callback" families: 2027 enrollments with an order and an online payment
  already submitted (the callback case settles them, one signed callback each).

Everything is INSERT … SELECT on the server, ids equal to the enrollment's id,
so a million persons take minutes, not hours. Each seeder runs in a savepoint
and says what it loaded, or why it loaded nothing (a model changed under it).
"""

from django.apps import apps
from django.db import transaction

YEAR_IN_FLIGHT = 2027
SUBMIT_REFERENCE = "BS"  # payment references of the callback families: BS000000012345


def available(app_label: str) -> bool:
    needed = {
        "payments": ("Order", "Payment", "PaidPeriod", "Receipt", "PaymentEvent"),
        "transfers": ("Transfer",),
    }
    try:
        return all(apps.get_model(app_label, name) for name in needed[app_label])
    except LookupError:
        return False


def guarded(seeder, command, cursor) -> str:
    try:
        with transaction.atomic():
            return seeder(command, cursor)
    except Exception as error:  # noqa: BLE001 - the seed of the rest stands; the note says why
        return f"skipped: {type(error).__name__}: {str(error)[:300]}"


def in_flight_families(persons: int) -> int:
    """How many families each in-flight group gets: enough for a few runs of a case."""
    return max(10, min(2000, persons // 3 // 4))


def family_range(group: str, persons: int) -> tuple[int, int]:
    """First and last person id of a group (family f holds persons 3f+1..3f+3;
    family 0 is the bench family)."""
    n = in_flight_families(persons)
    first_family = 1 if group == "submit" else 1 + n
    return 3 * first_family + 1, 3 * (first_family + n)


def _insert(command, cursor, model, overrides: dict, tail: str, params=()):
    columns, values = command._select_list(model, overrides)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} {tail}", params
    )
    return cursor.rowcount


def _reset_sequences(cursor, *models):
    for model in models:
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
            [table],
        )


PRICE_JOIN = """
    FROM enrollment_enrollment e
    JOIN people_person p ON p.id = e.person_id
    JOIN core_region r ON r.code = e.region_id
    JOIN enrollment_policy pol ON pol.region_id = e.region_id AND pol.year = e.year
    JOIN enrollment_policycategory pc ON pc.policy_id = pol.id AND pc.category = e.category
"""


def _orders(command, cursor, where: str, params, *, created: str):
    Order = apps.get_model("payments", "Order")
    return _insert(
        command,
        cursor,
        Order,
        {
            "id": "e.id",
            "insured": "e.person_id",
            "payer": "e.person_id",
            "enrollment": "e.id",
            "region": "e.region_id",
            "scheme": "e.scheme",
            "period": "e.year::text",
            "periods": "jsonb_build_array(e.year::text)",
            "kind": "'premium'",
            "category": "e.category",
            "months": "12",
            "personal_amount": "pc.personal_amount",
            "subsidy": "pc.subsidy",
            "late_fee": "0",
            "total": "pc.personal_amount",
            "idempotency_key": "'seed-' || e.id",
            "created_at": created,
        },
        PRICE_JOIN + where,
        params,
    )


def seed_payments(command, cursor) -> str:
    Payment = apps.get_model("payments", "Payment")
    PaymentEvent = apps.get_model("payments", "PaymentEvent")
    PaidPeriod = apps.get_model("payments", "PaidPeriod")
    Receipt = apps.get_model("payments", "Receipt")
    Order = apps.get_model("payments", "Order")
    Enrollment = apps.get_model("enrollment", "Enrollment")
    persons = command.persons
    paid_at = "make_timestamptz(e.year - 1, 10, 15, 10, 0, 0)"

    # Every seeded (active) enrollment was paid by WeChat in October of the year before.
    orders = _orders(command, cursor, "WHERE e.status = 'active'", [], created=paid_at)
    payment_overrides = {
        "id": "e.id",
        "order": "e.id",
        "insured": "e.person_id",
        "scheme": "e.scheme",
        "period": "e.year::text",
        "channel": "'wechat'",
        "amount": "pc.personal_amount",
        "status": "'success'",
        "idempotency_key": "'seed-' || e.id",
        "reference": "'SD' || lpad(e.id::text, 14, '0')",
        "provider_transaction_id": "'WX' || lpad(e.id::text, 14, '0')",
        "last_callback_seq": "2",
        "created_at": paid_at,
        "updated_at": paid_at,
        "settled_at": paid_at,
    }
    payments = _insert(
        command,
        cursor,
        Payment,
        payment_overrides,
        PRICE_JOIN + "WHERE e.status = 'active'",
    )
    _insert(
        command,
        cursor,
        PaymentEvent,
        {
            "payment": "e.id",
            "from_status": "'submitted'",
            "to_status": "'success'",
            "source": "'callback'",
            "at": paid_at,
        },
        PRICE_JOIN + "WHERE e.status = 'active'",
    )
    _insert(
        command,
        cursor,
        PaidPeriod,
        {
            "insured": "e.person_id",
            "scheme": "e.scheme",
            "period": "e.year::text",
            "payment": "e.id",
        },
        PRICE_JOIN + "WHERE e.status = 'active'",
    )
    _insert(
        command,
        cursor,
        Receipt,
        {
            "payment": "e.id",
            "number": "to_char(e.year - 1, 'FM0000') || '1015' || lpad(e.id::text, 12, '0')",
            "verification_code": "upper(substr(md5('bench' || e.id), 1, 16))",
            "payer_name": "p.name",
            "insured_name": "p.name",
            "insured_id_masked": "left(p.id_number, 4) || '**********' || right(p.id_number, 4)",
            "scheme": "'城乡居民医保'",
            "region_name": "r.name",
            "period": "e.year::text",
            "amount": "pc.personal_amount",
            "channel": "'微信'",
            "transaction_id": "'WX' || lpad(e.id::text, 14, '0')",
            "paid_at": paid_at,
        },
        PRICE_JOIN + "WHERE e.status = 'active'",
    )

    # 2027 in flight: registered enrollments for both groups ...
    first, _ = family_range("submit", persons)
    _, last = family_range("callback", persons)
    last = min(last, persons)
    registered = _insert(
        command,
        cursor,
        Enrollment,
        {
            "person": "p.id",
            "region": "p.region_id",
            "scheme": "'resident'",
            "year": str(YEAR_IN_FLIGHT),
            "status": "'registered'",
            "category": "'ordinary'",
            "verification": "'not_needed'",
        },
        "FROM people_person p WHERE p.id BETWEEN %s AND %s",
        [first, last],
    )
    # ... and for the callback group, an order and a submitted WeChat payment each.
    cb_first, cb_last = family_range("callback", persons)
    where = f"WHERE e.year = {YEAR_IN_FLIGHT} AND e.person_id BETWEEN %s AND %s"
    _orders(command, cursor, where, [cb_first, cb_last], created="now()")
    submitted = _insert(
        command,
        cursor,
        Payment,
        {
            **payment_overrides,
            "status": "'submitted'",
            "reference": f"'{SUBMIT_REFERENCE}' || lpad(e.id::text, 14, '0')",
            "provider_transaction_id": "NULL",
            "last_callback_seq": "0",
            "created_at": "now()",
            "updated_at": "now()",
            "settled_at": "NULL",
            "due_at": "now() + interval '1 day'",
        },
        PRICE_JOIN + where,
        [cb_first, cb_last],
    )
    _insert(
        command,
        cursor,
        PaymentEvent,
        {
            "payment": "e.id",
            "from_status": "'started'",
            "to_status": "'submitted'",
            "source": "'system'",
            "at": "now()",
        },
        PRICE_JOIN + where,
        [cb_first, cb_last],
    )
    _reset_sequences(
        cursor, Order, Payment, PaymentEvent, PaidPeriod, Receipt, Enrollment
    )
    return (
        f"{payments} paid payments ({orders} orders, receipts, events); {YEAR_IN_FLIGHT}: {registered} "
        f"registered enrollments, {submitted} payments awaiting a callback"
    )


def seed_transfers(command, cursor) -> str:
    return (
        "the transfer engine case creates its own transfers in flight (bench/engine.py)"
    )
