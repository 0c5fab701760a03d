from django.db import models


class BenchRow(models.Model):
    """The baseline's one table: what a bare view inserts into, or reads by primary key."""

    label = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.label
