"""The audit trail of staff changes (django-auditlog): who, when, and each
changed field before and after, identity and mobile numbers masked.

Models are registered here (called from PortalConfig.ready()); the models of
the other apps are looked up by label so an app that is not there yet, or a
model it has not written yet, is simply skipped.

Only changes made by a staff member (a signed-in request whose user is staff)
are written: the workers' own state changes are already recorded in each
app's event tables, and logging every one of them would double the write load.
"""

from __future__ import annotations

from django.apps import apps

# model label → registration options. Identity numbers and mobiles are masked
# with the portal's masking (3401**********1234), never auditlog's half-mask.
MASK_ID = "portal.audit.mask_value"
NOISE = ["created_at", "updated_at"]
AUDITED: dict[str, dict] = {
    "portal.Region": {},
    "portal.Person": {"mask_fields": ["id_number", "mobile"], "mask_callable": MASK_ID, "exclude_fields": NOISE},
    "portal.User": {
        # A password hash is never written anywhere, not even masked.
        "exclude_fields": ["password", "last_login"],
        "mask_fields": ["mobile"],
        "mask_callable": MASK_ID,
    },
    "portal.FamilyLink": {"exclude_fields": NOISE},
    "portal.CalendarDay": {},
    "portal.CalendarYear": {},
    "enrollment.Policy": {},
    "enrollment.PolicyCategory": {},
    "enrollment.Enrollment": {"exclude_fields": NOISE},
    "payments.PersonalAccount": {"exclude_fields": NOISE},
    "payments.Payment": {"exclude_fields": NOISE},
    "payments.Order": {"exclude_fields": NOISE},
    "payments.Refund": {"exclude_fields": NOISE},
    "payments.FamilyBinding": {"exclude_fields": NOISE},
    "transfers.Transfer": {"exclude_fields": NOISE},
}


def mask_value(value: str) -> str:
    """auditlog mask_callable: an identity number or a mobile number, masked as everywhere else."""
    from .identity import mask_id_number, mask_mobile

    value = str(value)
    return mask_mobile(value) if len(value) == 11 else mask_id_number(value)


def _model(label: str):
    app_label, name = label.split(".")
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def only_staff_changes(sender, instance, action, **kwargs):
    """auditlog pre_log receiver: False (skip) unless a staff member is acting."""
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
    return bool(actor.is_staff or actor.is_superuser or getattr(actor, "role", "citizen") != "citizen")


def _actor_context_open(duid) -> bool:
    """Whether auditlog's actor context (set_actor / the middleware) is still
    open: it connects a pre_save receiver under this dispatch uid and
    disconnects it on exit, but leaves the context variable behind."""
    from django.db.models.signals import pre_save

    if duid is None:
        return False
    return any(key[0] == duid for key, *_rest in pre_save.receivers)


def register() -> None:
    """Register the audited models with auditlog (idempotent)."""
    from auditlog.registry import auditlog
    from auditlog.signals import pre_log

    for label, options in AUDITED.items():
        model = _model(label)
        if model is None or auditlog.contains(model):
            continue
        fields = {f.name for f in model._meta.get_fields()}
        opts = {key: [f for f in value if f in fields] if isinstance(value, list) else value
                for key, value in options.items()}
        auditlog.register(model, **opts)
    pre_log.connect(only_staff_changes, dispatch_uid="portal.audit.only_staff_changes")
