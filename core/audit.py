"""The audit trail of staff changes (django-auditlog): who, when, and each
changed field before and after, identity and mobile numbers masked.

Each app registers its own audited models from its AppConfig.ready() with
`audit_register`; a model that is not a model, or a field that does not exist,
is an error at start-up, never skipped.

Only changes made by a staff member (a signed-in request whose user is staff)
are written: the workers' own state changes are already recorded in each
app's event tables, and logging every one of them would double the write load.
Nor is anything read for them: auditlog reads a row again before each update
to diff it, and that read is skipped unless staff are acting.
"""

from __future__ import annotations

# Identity numbers and mobiles are masked with the portal's masking
# (3401**********1234), never auditlog's half-mask.
MASK_CALLABLE = "core.audit.mask_value"
NOISE = ["created_at", "updated_at"]


def mask_value(value: str) -> str:
    """auditlog mask_callable: an identity number or a mobile number, masked as everywhere else."""
    from .identity import mask_id_number, mask_mobile

    value = str(value)
    return mask_mobile(value) if len(value) == 11 else mask_id_number(value)


def staff_acting() -> bool:
    """Whether a staff member is acting now (a signed-in request whose user is
    staff, or auditlog's set_actor with one)."""
    from auditlog.context import auditlog_value

    try:
        context = auditlog_value.get()
    except LookupError:
        return False
    if not _actor_context_open(context.get("signal_duid")):
        return False  # a finished request's (or test's) actor left in the context
    actor = context.get("actor")
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return bool(
        actor.is_staff
        or actor.is_superuser
        or getattr(actor, "role", "citizen") != "citizen"
    )


def only_staff_changes(sender, instance, action, **kwargs):
    """auditlog pre_log receiver: False (skip) unless a staff member is acting."""
    return staff_acting()


def _log_staff_update(sender, instance, **kwargs):
    """auditlog's pre_save receiver, run only when a staff member acts: it
    reads the row again to diff it, a query a citizen's request or a worker
    would pay on every save for an entry only_staff_changes then drops."""
    from auditlog.receivers import log_update

    if staff_acting():
        log_update(sender, instance=instance, **kwargs)


def _actor_context_open(duid) -> bool:
    """Whether auditlog's actor context (set_actor / the middleware) is still
    open: it connects a pre_save receiver under this dispatch uid and
    disconnects it on exit, but leaves the context variable behind."""
    from django.db.models.signals import pre_save

    if duid is None:
        return False
    return any(key[0] == duid for key, *_rest in pre_save.receivers)


def audit_register(
    model, *, masked: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> None:
    """Record staff changes of `model` (idempotent). `masked` fields are shown
    masked; `exclude` fields are never written, not even masked."""
    from auditlog.receivers import log_update
    from auditlog.registry import auditlog
    from auditlog.signals import pre_log
    from django.db.models.signals import pre_save

    fields = {f.name for f in model._meta.get_fields()}
    unknown = (set(masked) | set(exclude)) - fields - set(NOISE)
    if unknown:
        raise ValueError(
            f"audit_register({model._meta.label}): no fields {sorted(unknown)}"
        )
    pre_log.connect(only_staff_changes, dispatch_uid="core.audit.only_staff_changes")
    if auditlog.contains(model):
        return
    options = {"exclude_fields": [f for f in (*exclude, *NOISE) if f in fields]}
    if masked:
        options.update(mask_fields=list(masked), mask_callable=MASK_CALLABLE)
    auditlog.register(model, **options)
    # Updates are diffed only when staff act (see _log_staff_update): auditlog's
    # own receiver, connected by register() under its dispatch uid, gives way.
    pre_save.disconnect(
        sender=model, dispatch_uid=auditlog._dispatch_uid(pre_save, log_update)
    )
    pre_save.connect(
        _log_staff_update,
        sender=model,
        dispatch_uid=f"core.audit.update.{model._meta.label_lower}",
    )
