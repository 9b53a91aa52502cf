"""Scenarios belong to versions: each scenario of a policy moves onto every version it tests
today (`scenarios.applies_to`, as the version pages decided it before), as one copy per version;
one that tests no version stays the policy's own."""

import django.db.models.deletion
from django.db import migrations, models


def onto_versions(apps, schema_editor):
    from policies import scenarios

    Scenario = apps.get_model("policies", "Scenario")
    PolicyVersion = apps.get_model("policies", "PolicyVersion")
    for row in list(Scenario.objects.filter(version__isnull=True).order_by("pk")):
        versions = list(PolicyVersion.objects.filter(policy_id=row.policy_id).order_by("pk"))
        case = scenarios.Scenario(name=row.name, answers={}, as_of=row.as_of)
        targets = []
        for version in versions:
            published = [
                v.effective_date
                for v in versions
                if v.pk != version.pk and v.status == "published" and v.effective_date
            ]
            if version.status not in ("draft", "published"):
                continue
            if scenarios.applies_to(
                case,
                effective_date=version.effective_date,
                is_draft=version.status == "draft",
                published_dates=published,
            ):
                targets.append(version)
        for n, version in enumerate(targets):
            if n:
                row.pk = None
                row._state.adding = True
            row.version_id = version.pk
            row.save()


def back_to_policies(apps, schema_editor):
    Scenario = apps.get_model("policies", "Scenario")
    seen = set()
    for row in Scenario.objects.order_by("pk"):
        if (row.policy_id, row.name) in seen:
            row.delete()
        else:
            seen.add((row.policy_id, row.name))
            row.version_id = None
            row.save()


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0006_authoring_grid"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="scenario",
            name="unique_scenario_name",
        ),
        migrations.AddField(
            model_name="scenario",
            name="version",
            field=models.ForeignKey(
                blank=True,
                help_text="The version this scenario tests; empty: the versions its 'as of' picks.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="scenarios",
                to="policies.policyversion",
            ),
        ),
        migrations.RunPython(onto_versions, back_to_policies),
        migrations.AddConstraint(
            model_name="scenario",
            constraint=models.UniqueConstraint(
                condition=models.Q(("version__isnull", True)),
                fields=("policy", "name"),
                name="unique_scenario_name",
                violation_error_message="Scenario with this Policy and Name already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="scenario",
            constraint=models.UniqueConstraint(
                fields=("version", "name"),
                name="unique_scenario_name_per_version",
                violation_error_message="This version already has a scenario of this name.",
            ),
        ),
    ]
