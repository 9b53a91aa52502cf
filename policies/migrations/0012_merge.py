"""Joins the versions' own titles and the earlier slugs with the migrations merged before."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0011_merge"),
        ("policies", "0009_version_title_and_previous_slugs"),
    ]

    operations: list = []
