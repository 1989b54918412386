"""The payments part of seed_bench: a successful payment (order, attempt,
event, paid period, receipt) for every seeded (active) enrollment, as the
settlement writes them, and the benefit year 2027 in flight:

- "submit" families: 2027 enrollments registered and unpaid (the payment
  submission case pays them, one POST each);
- "callback" families: 2027 enrollments with an order and an online payment
  already submitted (the callback case settles them, one signed callback each).

Everything is INSERT … SELECT on the server, ids equal to the enrollment's id,
inside seed_bench's one transaction (its indexes are rebuilt after). A model
that changed under it stops the seed with the field's name: a bench on
half-seeded data would measure the wrong thing.
"""

from django.apps import apps

YEAR_IN_FLIGHT = 2027
SUBMIT_REFERENCE = "BS"  # payment references of the callback families: BS000000012345
# The receipts' verification-code alphabet (payments.services.RECEIPT_ALPHABET).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def in_flight_families(persons: int) -> int:
    """How many families each in-flight group gets: enough for a few runs of a case."""
    return max(10, min(2000, persons // 3 // 4))


def family_range(group: str, persons: int) -> tuple[int, int]:
    """First and last person id of a group (family f holds persons 3f+1..3f+3;
    family 0 is the bench family)."""
    n = in_flight_families(persons)
    first_family = 1 if group == "submit" else 1 + n
    return 3 * first_family + 1, 3 * (first_family + n)


def payment_reference(id_expr: str, prefix: str = "SD") -> str:
    """SQL for a seeded payment's reference: SD00000000012345."""
    return f"'{prefix}' || lpad(({id_expr})::text, 14, '0')"


def _verification_code(id_expr: str) -> str:
    """SQL for a receipt's 12-character code in the receipts' alphabet: a
    letter, then the id's digits spelled in letters (unique, and cheap: one
    translate per row)."""
    return (
        f"substr('{CODE_ALPHABET}', mod(({id_expr}), 32)::int + 1, 1) || "
        f"translate(lpad(({id_expr})::text, 11, '0'), '0123456789', 'ABCDEFGHJK')"
    )


def _insert(command, cursor, model, overrides: dict, tail: str, params=()) -> int:
    columns, values = command._select_list(model, overrides)
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {values} {tail}", params
    )
    return cursor.rowcount


def reset_sequence(cursor, model):
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
        [table],
    )


# An enrollment's price (pc) from its policy table; RECEIPT_JOIN adds the
# person and the region, whose names a receipt keeps.
PRICE_JOIN = """
    FROM enrollment_enrollment e
    JOIN enrollment_policy pol ON pol.region_id = e.region_id AND pol.year = e.year
    JOIN enrollment_policycategory pc ON pc.policy_id = pol.id AND pc.category = e.category
"""
RECEIPT_JOIN = (
    PRICE_JOIN
    + """
    JOIN people_person p ON p.id = e.person_id
    JOIN core_region r ON r.code = e.region_id
"""
)


def _orders(command, cursor, where: str, params, *, created: str) -> int:
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
    Enrollment = apps.get_model("enrollment", "Enrollment")
    persons = command.persons
    # Paid by WeChat on the day seed_bench's enrollments were activated.
    paid_at = "e.updated_at"
    active = "WHERE e.status = 'active'"

    orders = _orders(command, cursor, active, [], created="e.created_at")
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
        "reference": payment_reference("e.id"),
        "provider_transaction_id": "'WX' || lpad(e.id::text, 14, '0')",
        "last_callback_seq": "2",
        "created_at": paid_at,
        "updated_at": paid_at,
        "settled_at": paid_at,
    }
    payments = _insert(command, cursor, Payment, payment_overrides, PRICE_JOIN + active)
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
        "FROM enrollment_enrollment e " + active,
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
        "FROM enrollment_enrollment e " + active,
    )
    _insert(
        command,
        cursor,
        Receipt,
        {
            "payment": "e.id",
            # YYYYMMDD of the day paid (15 October of the year before), then 10 digits.
            "number": "(e.year - 1)::text || '1015' || lpad(e.id::text, 10, '0')",
            "verification_code": _verification_code("e.id"),
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
        RECEIPT_JOIN + active,
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
    EnrollmentEvent = apps.get_model("enrollment", "EnrollmentEvent")
    _insert(
        command,
        cursor,
        EnrollmentEvent,
        {
            "enrollment": "e.id",
            "from_status": "''",
            "to_status": "'registered'",
            "at": "e.created_at",
        },
        f"FROM enrollment_enrollment e WHERE e.year = {YEAR_IN_FLIGHT}",
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
            "reference": payment_reference("e.id", SUBMIT_REFERENCE),
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
        "FROM enrollment_enrollment e " + where,
        [cb_first, cb_last],
    )
    return (
        f"{payments} paid payments ({orders} orders, receipts, events); {YEAR_IN_FLIGHT}: {registered} "
        f"registered enrollments, {submitted} payments awaiting a callback"
    )
