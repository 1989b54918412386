"""Signal receivers of the people app (connected by importing this module in
PeopleConfig.ready())."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="people.remember_language")
def remember_language(sender, request, user, **kwargs):
    """The language chosen on the account applies from the next request on; the
    session's idle timeout starts now."""
    if request is None:
        return
    if getattr(user, "language", ""):
        request.session["account_language"] = user.language
    # A fresh login counts as the session's latest refresh (SessionRefreshMiddleware).
    request.session["_refreshed"] = int(time.time())
