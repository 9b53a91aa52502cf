"""Joins the question's change cost and the review items, written side by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0009_question_change_cost"),
        ("policies", "0009_review_items"),
    ]

    operations: list = []
