"""Baselines: the least Django can do for a read and for a write, served by the
same gunicorn, middleware and database as the portal's pages."""

import uuid
from decimal import Decimal

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from people.models import Person

from .models import BaselineRow


def baseline_read(request, pk):
    """One row by primary key, rendered with a small template."""
    person = get_object_or_404(Person, pk=pk)
    return render(request, "bench/read.html", {"person": person})


def baseline_chrome(request):
    """A logged-in page that renders the portal's empty base.html with one
    query of its own: the cost of the chrome (session, user, navigation,
    translations) that every citizen page pays before its content."""
    person = get_object_or_404(Person, pk=request.user.person_id or 0)
    return render(request, "bench/chrome.html", {"person": person})


@require_POST
def baseline_insert(request):
    """One row inserted in atomic() (CSRF-checked like any form POST)."""
    with transaction.atomic():
        row = BaselineRow.objects.create(
            person_id=int(request.POST.get("person", 1)),
            amount=Decimal("400.00"),
            reference=uuid.uuid4().hex,
        )
    return HttpResponse(str(row.pk), content_type="text/plain")
