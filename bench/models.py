from django.db import models

from people.models import Person


class BaselineRow(models.Model):
    """A row shaped like a payment (person, amount, unique reference), written by
    the insert baseline: the cost of one INSERT in atomic() through Django."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reference = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.reference
