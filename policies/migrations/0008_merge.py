"""Joins the migrations of the sources, the authoring grid and the result guidance, written side
by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0005_sources"),
        ("policies", "0006_authoring_grid"),
        ("policies", "0007_result_guidance"),
    ]

    operations: list = []
