from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    care = (
        bool(request.session.get("care_mode")) if hasattr(request, "session") else False
    )
    if user is not None and user.is_authenticated:
        care = care or user.care_mode
    return {"care_mode": care, "LANGUAGES": settings.LANGUAGES}
