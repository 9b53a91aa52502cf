"""Joins the migrations of the sources, the authoring grid and the result guidance, written side
by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0005_sources"),
        ("policies", "0006b_scenarios_per_version"),
        ("policies", "0007_result_guidance"),
    ]

    operations: list = []
