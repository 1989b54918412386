# Placeholder views; the enrollment pages replace these.
from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def start(request):
    return render(request, "portal/home.html")


@login_required
def coverage(request):
    return render(request, "portal/home.html")
