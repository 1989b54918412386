"""Signals that core sends and higher apps receive (connected in their own
AppConfig.ready())."""

from django.dispatch import Signal

# Sent with `year` when staff mark a year's holiday schedule as published, so
# that stored deadlines computed as estimates are computed again, now exactly.
calendar_published = Signal()
