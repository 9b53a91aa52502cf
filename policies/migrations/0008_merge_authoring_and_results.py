"""Joins the authoring grid's and the result guidance's migrations, written side by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0006_authoring_grid"),
        ("policies", "0007_result_guidance"),
    ]

    operations: list = []
