"""Joins the stable rule keys with the change cost and the review items, written side by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0010_merge"),
        ("policies", "0009_stable_rule_keys"),
    ]

    operations: list = []
