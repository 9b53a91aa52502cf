"""Rule keys stop spelling the outcome: `<id>[.<n>].<outcome id>` becomes `<id>[.<n>].<table>`
(`.<table>.<k>` when one YAML rule gave several outcomes of that table, numbered in the
version's order of outcomes), the keys the loader now gives (policies/rule_keys.py), so that a
version loaded before and after this change holds the same keys. Keys without an
outcome at their end (one YAML rule, one outcome; rules an admin named) stay as they are.

Published and withdrawn versions are renamed too, which the model layer's lock refuses on
purpose. This migration goes around it deliberately and narrowly: through the historical models
(which carry neither the lock's `save()` nor its queryset), writing the `key` column of rules
alone. A key is a name, not a part of the decision: every version decides exactly as before, and
keeping the old keys in published versions would leave two schemes side by side forever (and
a draft copied from a published version would bring the old one back). Saved results keep the
keys in their snapshots as they were: a snapshot records what was shown, and is never
rewritten. Nothing else stores a rule key (scenarios name outcomes, drift reviews clauses),
except the notes of a draft started from a drift finding, which list the rules to review: those
drafts' notes are renamed too.
"""

import re
from collections import defaultdict

from django.db import migrations

TABLES = ("verdict", "auth_methods", "terms", "steps")


def _new_keys(rules, outcomes_by_table):
    """{rule pk: new key} for one version's rules, given (pk, key, table, outcome key) and each
    table's outcome keys in the version's order."""
    groups = defaultdict(list)
    for pk, key, table, outcome in rules:
        # The rule's own outcome first; then any outcome of its table, for a rule whose outcome
        # an admin changed after it was named.
        for candidate in [outcome, *sorted(outcomes_by_table[table], key=len, reverse=True)]:
            end = f".{candidate}"
            if key.endswith(end) and len(key) > len(end):
                rank = outcomes_by_table[table].index(outcome)
                groups[key[: -len(end)]].append(((rank, key), pk, table))
                break
    taken = {key for _, key, _, _ in rules}
    renamed = {}
    for head, members in groups.items():
        by_table = defaultdict(list)
        for _, pk, table in sorted(members):
            by_table[table].append(pk)
        proposed = {}
        for table, pks in by_table.items():
            for n, pk in enumerate(pks, start=1):
                proposed[pk] = f"{head}.{table}" if len(pks) == 1 else f"{head}.{table}.{n}"
        # A new key that is some rule's key already (or too long) keeps the whole group as it
        # was: a half-renamed group would no longer read as one rule.
        if any(key in taken or len(key) > 120 for key in proposed.values()):
            continue
        if len(set(proposed.values())) != len(proposed):
            continue
        taken.update(proposed.values())
        renamed.update(proposed)
    return renamed


def _old_keys(rules, outcomes_by_table):
    """The way back: `<head>.<table>[.<k>]` to `<head>.<outcome id>`."""
    taken = {key for _, key, _, _ in rules}
    renamed = {}
    for pk, key, table, outcome in rules:
        match = re.fullmatch(rf"(?P<head>.+)\.{re.escape(table)}(\.[0-9]+)?", key)
        if match:
            old = f"{match['head']}.{outcome}"
            if old not in taken and len(old) <= 120:
                taken.add(old)
                renamed[pk] = old
    return renamed


def _rename(apps, rename):
    Rule = apps.get_model("policies", "Rule")
    Outcome = apps.get_model("policies", "Outcome")
    PolicyVersion = apps.get_model("policies", "PolicyVersion")
    for version in PolicyVersion.objects.order_by("pk"):
        outcomes_by_table = defaultdict(list)
        for table, key in (
            Outcome.objects.filter(version=version).order_by("order", "pk").values_list("table", "key")
        ):
            outcomes_by_table[table].append(key)
        rows = list(Rule.objects.filter(version=version).select_related("outcome").order_by("pk"))
        rules = [(r.pk, r.key, r.outcome.table, r.outcome.key) for r in rows]
        renamed = rename(rules, outcomes_by_table)
        if not renamed:
            continue
        changed = []
        words = {}
        for row in rows:
            if row.pk in renamed:
                words[row.key] = renamed[row.pk]
                row.key = renamed[row.pk]
                changed.append(row)
        # One statement: no row's new key is another's old one (checked above), so the unique
        # (version, key) constraint holds at every row, on PostgreSQL as on SQLite.
        Rule.objects.bulk_update(changed, ["key"])
        if version.status == "draft" and version.notes:
            notes = version.notes
            for old, new in words.items():
                # The whole key only (a full stop after it ends a sentence, not the key).
                notes = re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w-]|\.[\w-])", new, notes)
            if notes != version.notes:
                PolicyVersion.objects.filter(pk=version.pk).update(notes=notes)


def forwards(apps, schema_editor):
    _rename(apps, _new_keys)


def backwards(apps, schema_editor):
    _rename(apps, _old_keys)


class Migration(migrations.Migration):
    dependencies = [
        ("policies", "0008_merge"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
