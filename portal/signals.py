"""Signal receivers of the shared records."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="portal.remember_language")
def remember_language(sender, request, user, **kwargs):
    """The language chosen on the account applies from the next request on."""
    if request is not None and getattr(user, "language", ""):
        request.session["account_language"] = user.language
