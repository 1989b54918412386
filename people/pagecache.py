"""Which users' cached pages a change to some persons' records may touch, and
bumping their family versions (core.pagecache) after commit.

A person's records show on the pages of their own account and of every account
holding a FamilyLink to them: in any status, because a link decided, revoked or
ended changes what the owner's pages show as much as a payment does.

Services that write with queryset.update, bulk_create or raw SQL (no signals)
call `family_changed(person_ids=[…])` themselves; model saves and deletes reach
it through the receivers each app connects in its AppConfig.ready().
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from core.pagecache import site_changed, versions_bump

log = logging.getLogger(__name__)

# Within one transaction, person id → the users whose pages show them: a
# payment's several rows ask once. Forgotten at commit, at a rollback (the
# marker callback is dropped with the savepoint or transaction it was made
# in), and whenever a FamilyLink or an account changes (links_changed).
_MEMO_ATTR = "_pagecache_family_users"


def _memo() -> dict[int, frozenset[int]] | None:
    if not connection.in_atomic_block:
        return None
    held = getattr(connection, _MEMO_ATTR, None)
    if held is not None:
        marker, memo = held
        # Still pending means the transaction (or savepoint) that made the
        # memo neither committed nor rolled back.
        if any(func is marker for _sids, func, _robust in connection.run_on_commit):
            return memo
    memo: dict[int, frozenset[int]] = {}

    def marker():
        links_changed()

    transaction.on_commit(marker)
    setattr(connection, _MEMO_ATTR, (marker, memo))
    return memo


def links_changed() -> None:
    """Who sees whom may have changed: resolve afresh."""
    setattr(connection, _MEMO_ATTR, None)


def family_users(person_ids: Iterable[int]) -> set[int]:
    """Every user whose pages may show any of these persons: their own accounts
    and every account holding a FamilyLink to one of them, in any status (one
    query; none for persons already resolved in this transaction)."""
    from .models import FamilyLink, User

    ids = {pid for pid in person_ids if pid is not None}
    if not ids:
        return set()
    memo = _memo()
    known = memo if memo is not None else {}
    missing = sorted(ids - known.keys())
    found: dict[int, set[int]] = {pid: set() for pid in missing}
    if missing:
        own = User.objects.filter(person_id__in=missing).values_list("person_id", "id")
        linked = FamilyLink.objects.filter(
            relative_id__in=missing, owner__account__isnull=False
        ).values_list("relative_id", "owner__account__id")
        for person_id, user_id in own.union(linked, all=True):
            found[person_id].add(user_id)
        if memo is not None:
            memo.update({pid: frozenset(users) for pid, users in found.items()})
    users: set[int] = set()
    for pid in ids:
        users |= found.get(pid) or known.get(pid) or set()
    return users


def family_changed(*, person_ids: Iterable[int]) -> None:
    """Records of these persons changed: every page that may show them goes
    stale, now and again after commit (core.pagecache.versions_bump)."""
    versions_bump(family_users(person_ids))


def related_id(instance, relation: str, attribute: str):
    """`instance.<relation>.<attribute>` without a query when the related row
    is already loaded (as a service that just saved both has it), else with
    one query for that column only."""
    descriptor = getattr(type(instance), relation)
    if descriptor.is_cached(instance):
        return getattr(getattr(instance, relation), attribute)
    related = descriptor.field.related_model
    pk = getattr(instance, descriptor.field.attname)
    return related.objects.filter(pk=pk).values_list(attribute, flat=True).first()


def pages_follow(model, persons: Callable[[Any], Iterable[int]]) -> None:
    """Saving or deleting a `model` row changes the pages of the persons
    `persons(row)` (connected in the model's app's AppConfig.ready())."""
    label = model._meta.label_lower

    def changed(sender, instance, **kwargs):
        family_changed(person_ids=persons(instance))

    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(
            changed, sender=model, weak=False, dispatch_uid=f"pagecache.{label}.{name}"
        )


def pages_follow_site(model) -> None:
    """Saving or deleting a `model` row (a policy, a region) changes what every
    page may show."""
    label = model._meta.label_lower

    def changed(sender, **kwargs):
        site_changed()

    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(
            changed, sender=model, weak=False, dispatch_uid=f"pagecache.{label}.{name}"
        )


def _family_link_changed(sender, instance, **kwargs):
    links_changed()
    family_changed(person_ids=[instance.owner_id, instance.relative_id])


def _account_changed(sender, instance, update_fields=None, **kwargs):
    # A login writes last_login only: who sees whom is unchanged.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    links_changed()


def _after_migrate(**kwargs):
    # A release migrates: bodies rendered by the code before it (its templates,
    # its selectors) are not served by the code after it.
    try:
        site_changed()
    except Exception:  # a cache down must not stop a migration
        log.warning("cached pages could not be invalidated after migrate")


def connect_people() -> None:
    """People's receivers (PeopleConfig.ready())."""
    from .models import FamilyLink, Person, User

    post_migrate.connect(_after_migrate, dispatch_uid="pagecache.after_migrate")
    pages_follow(Person, lambda person: [person.pk])
    for signal, name in ((post_save, "save"), (post_delete, "delete")):
        signal.connect(
            _family_link_changed,
            sender=FamilyLink,
            dispatch_uid=f"pagecache.people.familylink.{name}",
        )
        signal.connect(
            _account_changed, sender=User, dispatch_uid=f"pagecache.people.user.{name}"
        )
