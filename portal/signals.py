"""Signal receivers of the shared records."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="portal.remember_language")
def remember_language(sender, request, user, **kwargs):
    """The language chosen on the account applies from the next request on; the
    session's idle timeout starts now."""
    if request is None:
        return
    if getattr(user, "language", ""):
        request.session["account_language"] = user.language
    # A fresh login counts as the session's latest refresh (SessionRefreshMiddleware).
    request.session["_refreshed"] = int(__import__("time").time())


def _connect_calendar():
    from django.db.models.signals import post_delete, post_save

    from .models import CalendarDay, CalendarYear
    from .workdays import calendar_changed

    for model in (CalendarDay, CalendarYear):
        post_save.connect(calendar_changed, sender=model, dispatch_uid=f"workdays.{model.__name__}.save")
        post_delete.connect(calendar_changed, sender=model, dispatch_uid=f"workdays.{model.__name__}.delete")


_connect_calendar()
