"""Pages served from what changes rarely: a versioned fragment cache.

Each user has a family version token (`fv:<user id>`) in the default cache,
and one token (`fv:site`) stands for what every page may show (policies,
regions). A cached fragment is stored as (tokens, payload) under a key of the
user, and it is valid only while the tokens are the ones it was stored with. A
write that may change what a user's pages show bumps the user's token
(`versions_bump`), a change to what every page shows bumps the site's
(`site_changed`): every fragment concerned goes stale at once, with no list of
keys to delete.

Reading costs one cache round trip (`cache.get_many` of the tokens and the
fragment). The races, and why they cannot leave a stale page behind:
- The token is read *before* the database, and stored with the payload. A
  reader that loaded the rows before a write committed stores them with the old
  token; the write bumps after commit, so that fragment is never served.
- The bump runs after commit (`transaction.on_commit`), and once more at the
  write itself: a reader inside the writer's transaction (the same request, or
  a test's transaction that never commits) sees a new token too. A rolled-back
  write costs a cache miss, never a stale page.
- Two readers racing may overwrite each other's fragment; the one with the old
  token is then a miss, recomputed, never served.
- No token yet (first visit, eviction): the reader claims one with `cache.add`
  before reading the database; if another process got there first, the page
  is rendered but not stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

# A fragment lives a day at most (the date is part of every page's key anyway);
# a token a week: a token evicted or expired only makes the next read a miss.
FRAGMENT_TIMEOUT = 24 * 3600
TOKEN_TIMEOUT = 7 * 24 * 3600
# Part of every fragment key: raise it when a cached payload changes shape.
FORMAT = 1


SITE_TOKEN_KEY = "fv:site"


def token_key(user_id: int) -> str:
    return f"fv:{user_id}"


def fragment_key(user_id: int, parts: Iterable[Any]) -> str:
    digest = hashlib.blake2b(
        repr((FORMAT, *parts)).encode(), digest_size=12
    ).hexdigest()
    return f"pg:{user_id}:{digest}"


def _token_new() -> str:
    return secrets.token_hex(8)


def fragment_get(*, user_id: int, parts: Iterable[Any]) -> tuple[Any, tuple | None]:
    """(payload or None, tokens to store a fresh payload with, or None when it
    must not be stored). One round trip when the fragment is there."""
    tk, pk = token_key(user_id), fragment_key(user_id, parts)
    _read_in_transaction()
    got = cache.get_many([SITE_TOKEN_KEY, tk, pk])
    tokens = [got.get(SITE_TOKEN_KEY), got.get(tk)]
    value = got.get(pk)
    if None not in tokens and value is not None and value[0] == tuple(tokens):
        return value[1], value[0]
    # A missing token is claimed before the database is read, so a write that
    # commits after this replaces it and what is stored with it is never
    # served; if another process claimed it first, nothing is stored.
    for index, key in enumerate((SITE_TOKEN_KEY, tk)):
        if tokens[index] is None:
            fresh = _token_new()
            if not cache.add(key, fresh, TOKEN_TIMEOUT):
                return None, None
            tokens[index] = fresh
    return None, tuple(tokens)


def fragment_set(*, user_id: int, parts: Iterable[Any], tokens: tuple | None, payload):
    if tokens is None:
        return
    cache.set(fragment_key(user_id, parts), (tokens, payload), FRAGMENT_TIMEOUT)


def fragment(*, user_id: int, parts: Iterable[Any], build: Callable[[], Any]):
    """The cached payload of (user, parts), or `build()` stored under the
    tokens read before it ran."""
    parts = tuple(parts)
    payload, tokens = fragment_get(user_id=user_id, parts=parts)
    if payload is not None:
        return payload
    payload = build()
    fragment_set(user_id=user_id, parts=parts, tokens=tokens, payload=payload)
    return payload


def _bump(user_ids) -> None:
    if user_ids:
        cache.set_many(
            {token_key(uid): _token_new() for uid in user_ids}, TOKEN_TIMEOUT
        )


# Within one transaction: the users bumped at a write and not read since (a
# second write need not bump them again), and the users to bump once at
# commit. Held on the connection with a marker callback, like
# people.pagecache's memo: forgotten at commit and at a rollback.
_PENDING_ATTR = "_pagecache_pending"


def _pending() -> tuple[set[int], set[int]] | None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    held = getattr(connection, _PENDING_ATTR, None)
    if held is not None:
        marker, bumped, at_commit = held
        # Still pending means the transaction (or savepoint) that registered
        # the commit bump neither committed nor rolled back.
        if any(func is marker for _sids, func, _robust in connection.run_on_commit):
            return bumped, at_commit
    bumped: set[int] = set()
    at_commit: set[int] = set()

    def marker():
        setattr(connection, _PENDING_ATTR, None)
        _bump(sorted(at_commit))

    transaction.on_commit(marker, robust=True)
    setattr(connection, _PENDING_ATTR, (marker, bumped, at_commit))
    return bumped, at_commit


def _read_in_transaction() -> None:
    """A fragment was read inside the writer's transaction: the next write
    must bump again at the write, or that reader could keep what it saw."""
    connection = transaction.get_connection()
    held = getattr(connection, _PENDING_ATTR, None)
    if held is not None and connection.in_atomic_block:
        held[1].clear()


def versions_bump(user_ids: Iterable[int]) -> None:
    """Make every cached fragment of these users stale: now, and again after
    the current transaction commits (at once when there is none).

    The several rows of one write (a payment's order, attempt, events,
    enrollment…) cost one cache round trip at the first write and one at
    commit, not one per row: within a transaction a user already bumped, and
    whose pages nobody in this transaction read since, is not bumped again at
    the write (only this transaction can see its uncommitted rows)."""
    user_ids = set(user_ids)
    if not user_ids:
        return
    # At the write a cache that cannot be reached fails the write (nothing
    # stale can be left behind); after commit it is logged (the write stands,
    # and the bump at the write already replaced the tokens).
    pending = _pending()
    if pending is None:
        _bump(sorted(user_ids))
        return
    bumped, at_commit = pending
    fresh = user_ids - bumped
    _bump(sorted(fresh))
    bumped |= fresh
    at_commit |= user_ids


def _site_bump() -> None:
    cache.set(SITE_TOKEN_KEY, _token_new(), TOKEN_TIMEOUT)


def site_changed() -> None:
    """What every page may show changed (a policy, a region): every cached
    fragment goes stale, now and again after commit."""
    _site_bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_site_bump, robust=True)


def page_body(
    request,
    *,
    view: str,
    params: tuple,
    template: str,
    build: Callable[[dt.date], tuple[dict, bool]],
) -> str:
    """The body of a citizen page (the `content` block, without the chrome,
    flash messages or any form's CSRF token), from the cache when nothing the
    user may see changed; else `build(today)` → (context, whether the result
    may be kept) is rendered with `template` and kept.

    The key: the view, the user and their person, the language, the day (the
    pages speak of "today", and authority ends at midnight), and the view's
    normalised query `params` (bounded: a view keeps only values it accepted)."""
    today = timezone.localdate()
    user = request.user
    parts = (view, get_language(), today.isoformat(), user.person_id, *params)
    body, tokens = fragment_get(user_id=user.pk, parts=parts)
    if body is not None:
        return mark_safe(body)  # noqa: S308 - rendered by the template engine
    context, keep = build(today)
    body = render_to_string(template, context)
    # A build that ran past midnight read tomorrow's authority.
    if keep and timezone.localdate() == today:
        fragment_set(user_id=user.pk, parts=parts, tokens=tokens, payload=str(body))
    return body
