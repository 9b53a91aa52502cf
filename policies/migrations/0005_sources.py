"""Source documents and their dated snapshots; a clause names its document and may be a later
statement; reviews of drift findings. Only adds."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0004_citation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="clause",
            name="later_statement",
            field=models.BooleanField(
                default=False,
                help_text="The quote is from a text dated after this version took effect (no text in force then says it); shown to people as said later.",
            ),
        ),
        migrations.AddField(
            model_name="clause",
            name="later_statement_reason",
            field=models.TextField(
                blank=True, help_text="Why a later text is cited: what the texts in force lack."
            ),
        ),
        migrations.AlterField(
            model_name="clause",
            name="url",
            field=models.URLField(
                max_length=500,
                validators=[
                    django.core.validators.URLValidator(
                        message="Enter an https:// or http:// URL.", schemes=["https", "http"]
                    )
                ],
            ),
        ),
        migrations.CreateModel(
            name="DriftReview",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "clause",
                    models.CharField(
                        max_length=80,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z0-9][a-z0-9_\\-.]*$",
                                "Use lower-case letters, digits, and _ - . (starting with a letter or digit).",
                                code="invalid_key",
                            )
                        ],
                    ),
                ),
                (
                    "since",
                    models.DateField(
                        help_text="The first snapshot that no longer holds the quote."
                    ),
                ),
                (
                    "verdict",
                    models.CharField(
                        choices=[("meaning_unchanged", "Reworded, meaning unchanged")],
                        default="meaning_unchanged",
                        max_length=30,
                    ),
                ),
                (
                    "note",
                    models.TextField(help_text="What changed, and why the clause still holds."),
                ),
                (
                    "reviewed_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "reviewed_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reviews",
                        to="policies.policyversion",
                    ),
                ),
            ],
            options={
                "ordering": ["version", "clause", "since"],
            },
        ),
        migrations.CreateModel(
            name="SourceDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.CharField(
                        help_text="e.g. legal-and-compliance",
                        max_length=80,
                        unique=True,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[a-z0-9][a-z0-9_\\-.]*$",
                                "Use lower-case letters, digits, and _ - . (starting with a letter or digit).",
                                code="invalid_key",
                            )
                        ],
                    ),
                ),
                (
                    "url",
                    models.URLField(
                        help_text="The URL as cited.",
                        max_length=500,
                        unique=True,
                        validators=[
                            django.core.validators.URLValidator(
                                message="Enter an https:// or http:// URL.",
                                schemes=["https", "http"],
                            )
                        ],
                    ),
                ),
                (
                    "other_urls",
                    models.JSONField(
                        blank=True, default=list, help_text="Earlier URLs of the same page, a list."
                    ),
                ),
                ("title", models.CharField(max_length=300)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("primary", "Primary page"),
                            ("secondary", "Secondary report"),
                            ("reference", "Reference (we hold no text)"),
                        ],
                        default="primary",
                        max_length=10,
                    ),
                ),
            ],
            options={
                "ordering": ["key"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("url__startswith", "https://"),
                            ("url__startswith", "http://"),
                            _connector="OR",
                        ),
                        name="document_url_is_web",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Snapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(help_text="The day the text was seen (UTC).")),
                ("text", models.TextField()),
                ("sha256", models.CharField(editable=False, max_length=64)),
                (
                    "provenance",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text="Where the text came from (a mirror and commit, a URL).",
                    ),
                ),
                (
                    "note",
                    models.TextField(blank=True, help_text="What changed from the copy before."),
                ),
                (
                    "recorded_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="snapshots",
                        to="policies.sourcedocument",
                    ),
                ),
            ],
            options={
                "ordering": ["document", "date"],
            },
        ),
        migrations.AddField(
            model_name="clause",
            name="document",
            field=models.ForeignKey(
                blank=True,
                help_text="The page the quote comes from; its snapshot of the date above is checked.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="clauses",
                to="policies.sourcedocument",
            ),
        ),
        migrations.AddConstraint(
            model_name="clause",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("url__startswith", "https://"),
                    ("url__startswith", "http://"),
                    ("url", ""),
                    _connector="OR",
                ),
                name="clause_url_is_web",
            ),
        ),
        migrations.AddConstraint(
            model_name="driftreview",
            constraint=models.UniqueConstraint(
                fields=("version", "clause", "since"), name="one_review_per_finding"
            ),
        ),
        migrations.AddConstraint(
            model_name="snapshot",
            constraint=models.UniqueConstraint(
                fields=("document", "date"), name="one_snapshot_per_day"
            ),
        ),
    ]
