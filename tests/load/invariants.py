"""The money and record invariants, checked on whatever database Django is
connected to (the fault tests' test database, or the load run's portal_load).

`violations()` returns a dict of invariant name -> list of offending rows
(empty lists when all hold) plus a few totals; every check is one SQL query, so
it runs in well under a second on a load run's tables.
"""

from decimal import Decimal

from django.db import connection

CHECKS = {
    # Every successful payment has exactly one receipt.
    "success_without_one_receipt": """
        SELECT p.id, COUNT(r.id) FROM payments_payment p
        LEFT JOIN payments_receipt r ON r.payment_id = p.id
        WHERE p.status = 'success' GROUP BY p.id HAVING COUNT(r.id) <> 1""",
    # A receipt only for a payment that succeeded (a refunded duplicate never had one).
    "receipt_without_success": """
        SELECT r.id, p.status FROM payments_receipt r JOIN payments_payment p ON p.id = r.payment_id
        WHERE p.status <> 'success'""",
    # No (insured, scheme, period) paid by two successful payments.
    "period_paid_twice": """
        SELECT insured_id, scheme, period, COUNT(*) FROM payments_payment
        WHERE status = 'success' GROUP BY insured_id, scheme, period HAVING COUNT(*) > 1""",
    "paid_period_row_twice": """
        SELECT insured_id, scheme, period, COUNT(*) FROM payments_paidperiod
        GROUP BY insured_id, scheme, period HAVING COUNT(*) > 1""",
    # Every success has its paid-period rows, and every paid-period row a successful payment.
    "success_without_paid_period": """
        SELECT p.id FROM payments_payment p WHERE p.status = 'success'
        AND NOT EXISTS (SELECT 1 FROM payments_paidperiod pp WHERE pp.payment_id = p.id)""",
    "paid_period_without_success": """
        SELECT pp.id, p.status FROM payments_paidperiod pp JOIN payments_payment p ON p.id = pp.payment_id
        WHERE p.status <> 'success'""",
    # A channel that took money: the attempt succeeded, or its money is being / was
    # sent back, or it is still in flight (the callback or reconciliation will settle it).
    "charged_but_not_settled": """
        SELECT s.id, s.merchant_reference, p.status FROM payments_simtransaction s
        LEFT JOIN payments_payment p ON p.reference = s.merchant_reference
        WHERE s.charged AND (p.id IS NULL OR p.status NOT IN
            ('success', 'refund_pending', 'refunded', 'created', 'started', 'submitted'))""",
    # A success at an online channel was charged there exactly once.
    "online_success_not_charged": """
        SELECT p.id FROM payments_payment p
        WHERE p.status = 'success' AND p.channel IN ('app', 'wechat', 'alipay', 'bank')
        AND NOT EXISTS (SELECT 1 FROM payments_simtransaction s
                        WHERE s.merchant_reference = p.reference AND s.charged)""",
    "refunded_but_money_kept": """
        SELECT p.id FROM payments_payment p JOIN payments_simtransaction s ON s.merchant_reference = p.reference
        WHERE p.status = 'refunded' AND s.refunded_amount <> p.amount""",
    # Personal accounts: balance = sum of entries, never below zero, each entry's balance_after >= 0.
    "balance_not_sum_of_entries": """
        SELECT a.id, a.balance, COALESCE(SUM(e.amount), 0) FROM payments_personalaccount a
        LEFT JOIN payments_accountentry e ON e.account_id = a.id
        GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0)""",
    "balance_negative": "SELECT id, balance FROM payments_personalaccount WHERE balance < 0",
    "entry_balance_after_negative": "SELECT id FROM payments_accountentry WHERE balance_after < 0",
    # A family payment from an account: one debit per successful attempt, refunded ones credited back once.
    "account_success_without_one_debit": """
        SELECT p.id, COUNT(e.id) FROM payments_payment p
        LEFT JOIN payments_accountentry e ON e.reference = 'payment:' || p.reference
        WHERE p.channel = 'account' AND p.status = 'success' GROUP BY p.id HAVING COUNT(e.id) <> 1""",
    "account_debit_without_success": """
        SELECT e.id, p.status FROM payments_accountentry e
        JOIN payments_payment p ON e.reference = 'payment:' || p.reference
        WHERE p.status NOT IN ('success', 'refund_pending', 'refunded')""",
    # Transfers: a known status; a completed one has nothing left in transit.
    "transfer_bad_status": """
        SELECT id, status FROM transfers_transfer WHERE status NOT IN
        ('submitted', 'outgoing_review', 'sheet_issued', 'incoming_review', 'completed', 'rejected', 'cancelled')""",
    "transfer_completed_with_transit": """
        SELECT id FROM transfers_transfer WHERE status = 'completed'
        AND (transit_amount <> 0 OR transit_actual_months <> 0 OR transit_deemed_months <> 0)""",
    "transfer_out_not_once": """
        SELECT reference, COUNT(*) FROM payments_accountentry WHERE reference LIKE 'transfer:%%'
        GROUP BY reference HAVING COUNT(*) > 1""",
}

CONSERVATION = """
    SELECT (SELECT COALESCE(SUM(balance), 0) FROM payments_personalaccount)
         + (SELECT COALESCE(SUM(transit_amount), 0) FROM transfers_transfer),
           (SELECT COALESCE(SUM(amount), 0) FROM payments_accountentry WHERE reference NOT LIKE 'transfer:%%')
"""

TOTALS = {
    "payments": "SELECT COUNT(*) FROM payments_payment",
    "payments_success": "SELECT COUNT(*) FROM payments_payment WHERE status = 'success'",
    "payments_in_flight": "SELECT COUNT(*) FROM payments_payment WHERE status IN ('created', 'started', 'submitted')",
    "receipts": "SELECT COUNT(*) FROM payments_receipt",
    "account_entries": "SELECT COUNT(*) FROM payments_accountentry",
    "transfers": "SELECT COUNT(*) FROM transfers_transfer",
    "transfers_completed": "SELECT COUNT(*) FROM transfers_transfer WHERE status = 'completed'",
    "outbox_unsent": "SELECT COUNT(*) FROM core_outboxmessage WHERE sent_at IS NULL",
}


def _rows(sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [list(map(_plain, row)) for row in cursor.fetchall()[:20]]


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def violations() -> dict[str, list]:
    """Each invariant's offending rows (at most 20 shown); all empty when every invariant holds."""
    found = {name: _rows(sql) for name, sql in CHECKS.items()}
    with connection.cursor() as cursor:
        cursor.execute(CONSERVATION)
        held, inflow = cursor.fetchone()
    found["money_not_conserved"] = [] if held == inflow else [[str(held), str(inflow)]]
    return found


def totals() -> dict[str, int]:
    out = {}
    with connection.cursor() as cursor:
        for name, sql in TOTALS.items():
            cursor.execute(sql)
            out[name] = cursor.fetchone()[0]
    return out


def broken(found: dict[str, list]) -> dict[str, list]:
    return {name: rows for name, rows in found.items() if rows}
