from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmarks: the baseline views that `make bench` compares the portal's pages to."""

    name = "bench"
    verbose_name = "benchmarks"
    default_auto_field = "django.db.models.BigAutoField"
