"""CSV export and import of one decision table from its grid: round trips on the seed, a changed
cell, every kind of error naming its line and column with nothing written, locked versions,
permissions and the export's query budget."""

import csv
import html as htmllib
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from policies import engine, records, services
from policies.models import PolicyVersion, Rule
from tests.factories import small_policy

pytestmark = pytest.mark.django_db


def export_url(version, table):
    return reverse("admin:policies_table_export", args=[version.pk, table])


def import_url(version, table):
    return reverse("admin:policies_table_import", args=[version.pk, table])


def change_url(version):
    return reverse("admin:policies_policyversion_change", args=[version.pk])


def exported(client, version, table) -> str:
    response = client.get(export_url(version, table))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.content.decode("utf-8-sig")


def upload(client, version, table, content, name="table.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(import_url(version, table), {"file": SimpleUploadedFile(name, data)})


def rows_of(text):
    return list(csv.reader(io.StringIO(text)))


def csv_text(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def table_rules(version, table):
    return sorted(
        (rule for rule in records.build(version).rules if rule.table == table),
        key=lambda rule: rule.key,
    )


def errors_of(response) -> list[str]:
    html = response.content.decode()
    assert "nothing was written" in html
    block = html[html.index('id="import-errors"') :]
    block = block[: block.index("</div>")]
    return [htmllib.unescape(item.split("</li>")[0]) for item in block.split("<li>")[1:]]


@pytest.fixture
def in_effect(seeded):
    return PolicyVersion.objects.filter(
        policy__slug="claude-code", status=PolicyVersion.Status.PUBLISHED
    ).latest("effective_date")


@pytest.fixture
def seed_draft(in_effect):
    return services.version_copy(version=in_effect, by=None)


@pytest.fixture
def draft():
    return services.version_copy(version=small_policy(), by=None)


# --- round trips on the seed ---------------------------------------------------------------


@pytest.mark.parametrize("table", engine.TABLES)
def test_an_unchanged_export_imports_as_the_same_rules(admin_client, seed_draft, table):
    before = table_rules(seed_draft, table)
    assert len(before) > 5

    response = upload(admin_client, seed_draft, table, exported(admin_client, seed_draft, table))

    assert response.status_code == 302
    assert response["Location"] == f"{change_url(seed_draft)}#table-{table}"
    assert table_rules(seed_draft, table) == before


@pytest.mark.parametrize("table", engine.TABLES)
def test_a_tables_export_rebuilds_its_rules_in_a_draft_that_lost_them(
    admin_client, in_effect, seed_draft, table
):
    text = exported(admin_client, in_effect, table)
    Rule.objects.filter(version=seed_draft, outcome__table=table).delete()

    response = upload(admin_client, seed_draft, table, text)

    assert response.status_code == 302
    assert table_rules(seed_draft, table) == table_rules(in_effect, table)
    # The other tables are left as they were.
    others = [t for t in engine.TABLES if t != table]
    assert all(table_rules(seed_draft, t) == table_rules(in_effect, t) for t in others)


def test_the_settings_line_carries_the_table_and_its_hit_policy(admin_client, seed_draft):
    for table in engine.TABLES:
        settings, header = rows_of(exported(admin_client, seed_draft, table))[:2]
        hit_policy = engine.DEFAULT_HIT_POLICIES[table]
        assert settings[:4] == ["table", table, "hit policy", str(hit_policy)]
        assert len(settings) == len(header)  # one row to a spreadsheet, as wide as the rest
        assert header[:2] == ["rule", "priority"]
        assert header[-3:] == ["outcome", "reason", "clauses"]


def test_a_changed_cell_is_imported_and_the_checks_run_again(admin_client, seed_draft):
    rows = rows_of(exported(admin_client, seed_draft, engine.VERDICT))
    header = rows[1]
    tool = header.index("tool")
    target = rows[2]
    target[tool] = "not claude_code"
    target[header.index("reason")] = "Changed by a CSV import."
    before = {r.key: r for r in table_rules(seed_draft, engine.VERDICT)}

    response = upload(admin_client, seed_draft, engine.VERDICT, csv_text(rows))
    page = admin_client.get(response["Location"])

    after = {r.key: r for r in table_rules(seed_draft, engine.VERDICT)}
    changed = after[target[0]]
    tools = records.build(seed_draft).question("tool").choice_keys
    assert dict(changed.conditions)["tool"] == frozenset(t for t in tools if t != "claude_code")
    assert changed.reason == "Changed by a CSV import."
    assert {k: r for k, r in after.items() if k != target[0]} == {
        k: r for k, r in before.items() if k != target[0]
    }
    html = page.content.decode()
    assert "1 rule changed, 0 added, 0 removed" in html
    assert "Checks:" in html  # the report of the re-run checks, as after a row save
    assert 'id="table-verdict"' in html


def test_a_row_added_and_a_row_left_out_are_added_and_removed(admin_client, draft):
    rows = rows_of(exported(admin_client, draft, engine.VERDICT))
    header = rows[1]
    kept = [r for r in rows[2:] if r[0] != "lazy-dog"]
    new = dict.fromkeys(header, "")
    new.update(
        rule="no-cat", priority="5", pet="cat", outcome="no", reason="No cats.", clauses="pet-act"
    )
    kept.append([new[name] for name in header])

    response = upload(admin_client, draft, engine.VERDICT, csv_text(rows[:2] + kept))

    assert response.status_code == 302
    keys = [r.key for r in table_rules(draft, engine.VERDICT)]
    assert "lazy-dog" not in keys and "no-cat" in keys
    cat = next(r for r in table_rules(draft, engine.VERDICT) if r.key == "no-cat")
    assert cat.priority == 5 and dict(cat.conditions) == {"pet": frozenset({"cat"})}


# --- errors: line and column, nothing written ---------------------------------------------


def edited(client, version, line, column, value):
    rows = rows_of(exported(client, version, engine.VERDICT))
    header = rows[1]
    at = header.index(column) if isinstance(column, str) else column
    rows[line - 1][at] = value
    return csv_text(rows)


@pytest.mark.parametrize(
    ("line", "column", "value", "expected"),
    [
        (
            3,
            "pet",
            "hamster",
            "line 3, column pet: unknown choice 'hamster'; allowed: cat, dog, fish",
        ),
        (4, "pet", "not cat, dog, fish", "line 4, column pet: this cell leaves out every choice"),
        (
            3,
            "outcome",
            "maybe",
            "line 3, column outcome: unknown outcome 'maybe' for the verdict table; "
            "allowed: no, yes",
        ),
        (3, "clauses", "pet-act, pet-law", "line 3, column clauses: unknown clause 'pet-law'"),
        (3, "priority", "first", "line 3, column priority: 'first' is not a whole number"),
        (3, "rule", "Bad Key!", "line 3, column rule: Use lower-case letters"),
        (3, "reason", "", "line 3, column reason: This field is required."),
        (
            4,
            "rule",
            "default-yes",
            "line 4, column rule: rule id 'default-yes' is already used on line 3",
        ),
        (
            3,
            "rule",
            "dog-leash",
            "line 3, column rule: rule id 'dog-leash' belongs to a rule of the steps table",
        ),
        (4, "priority", "-1", "line 4, column priority: rows are kept in priority order"),
        (1, 1, "terms", "line 1, column 2: this file is for the table 'terms', not 'verdict'"),
        (
            1,
            3,
            "first",
            "line 1, column 4: hit policy 'first' is not this table's; "
            "the verdict table's hit policy is 'priority'",
        ),
        (2, "walks", "walked", "line 2, column 4: unknown column 'walked'"),
    ],
)
def test_a_wrong_cell_is_named_by_line_and_column_and_nothing_is_written(
    admin_client, draft, line, column, value, expected
):
    before = records.build(draft)
    text = edited(admin_client, draft, line, column, value)

    response = upload(admin_client, draft, engine.VERDICT, text)

    assert response.status_code == 200
    assert any(error.startswith(expected) for error in errors_of(response)), errors_of(response)
    assert records.build(draft) == before


def test_every_wrong_line_is_reported_at_once_but_bounded(admin_client, draft):
    rows = rows_of(exported(admin_client, draft, engine.VERDICT))
    header = rows[1]
    bad = {"pet": "hamster", "walks": "", "outcome": "no", "reason": "No.", "clauses": "pet-act"}
    lines = [
        [{**bad, "rule": f"bad-{n:02}", "priority": "0"}[name] for name in header]
        for n in range(30)
    ]

    response = upload(admin_client, draft, engine.VERDICT, csv_text(rows[:2] + lines))

    errors = errors_of(response)
    assert errors[0].startswith("line 3, column pet: unknown choice 'hamster'")
    assert len(errors) == 21 and errors[-1] == "10 more errors not shown."
    assert [r.key for r in table_rules(draft, engine.VERDICT)] == [
        "default-yes",
        "lazy-dog",
        "no-fish",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "This is not a text file"),
        (
            "table,verdict,hit policy,priority\nrule,caf\xe9\n".encode("latin-1"),
            "The file is not UTF-8 text (byte 0xe9",
        ),
        (b"a" * 1_000_001, "at most 1,000,000 bytes (1 MB)"),
        (b"", "The submitted file is empty."),
    ],
)
def test_a_file_that_is_not_small_utf8_text_is_refused(admin_client, draft, content, expected):
    before = records.build(draft)

    response = upload(admin_client, draft, engine.VERDICT, content)

    assert response.status_code == 200
    assert expected in response.content.decode()
    assert records.build(draft) == before


def test_a_file_without_rule_lines_would_delete_the_table_and_is_refused(admin_client, draft):
    rows = rows_of(exported(admin_client, draft, engine.VERDICT))

    response = upload(admin_client, draft, engine.VERDICT, csv_text(rows[:2]))

    assert errors_of(response)[0].startswith("file: the file has no rule lines")
    assert len(table_rules(draft, engine.VERDICT)) == 3


def test_a_file_without_its_settings_line_says_what_line_1_holds(admin_client, draft):
    rows = rows_of(exported(admin_client, draft, engine.VERDICT))

    response = upload(admin_client, draft, engine.VERDICT, csv_text(rows[1:]))

    assert errors_of(response)[0].startswith("line 1, column 1: unknown setting 'rule'")


# --- locks and permissions -----------------------------------------------------------------


def test_a_published_version_refuses_an_import_with_a_form_error(admin_client):
    published = small_policy()
    text = exported(admin_client, published, engine.VERDICT).replace("Fine", "Changed")
    before = records.build(published)

    response = upload(admin_client, published, engine.VERDICT, text)

    assert response.status_code == 200
    assert "is published and cannot be changed" in response.content.decode()
    assert response.context["form"].non_field_errors().as_data()[0].code == "locked"
    assert records.build(published) == before


def test_a_published_grid_offers_the_download_but_no_import(admin_client, draft):
    published = small_policy(slug="other")
    html = admin_client.get(change_url(published)).content.decode()
    assert export_url(published, "verdict") in html
    assert import_url(published, "verdict") not in html

    draft_html = admin_client.get(change_url(draft)).content.decode()
    assert 'enctype="multipart/form-data" action="' + import_url(draft, "verdict") in draft_html


def test_only_users_who_may_change_add_and_delete_rules_may_import(
    client, django_user_model, draft
):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__in=["view_policyversion", "change_policyversion"])
    )
    client.force_login(viewer)
    text = exported(client, draft, engine.VERDICT)  # viewing is enough to download
    changed = text.replace("lazy-dog,0,any,no", "lazy-dog,0,any,yes")
    assert changed != text

    assert client.get(import_url(draft, engine.VERDICT)).status_code == 403
    assert upload(client, draft, engine.VERDICT, changed).status_code == 403
    assert dict(table_rules(draft, engine.VERDICT)[1].conditions) == {"walks": frozenset({"no"})}

    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_rule", "add_rule"])
    )
    client.force_login(django_user_model.objects.get(pk=viewer.pk))
    assert upload(client, draft, engine.VERDICT, changed).status_code == 403  # it may delete

    viewer.user_permissions.add(Permission.objects.get(codename="delete_rule"))
    client.force_login(django_user_model.objects.get(pk=viewer.pk))
    assert upload(client, draft, engine.VERDICT, changed).status_code == 302
    assert dict(table_rules(draft, engine.VERDICT)[1].conditions) == {"walks": frozenset({"yes"})}


def test_anonymous_users_get_neither_export_nor_import(client, draft):
    for url in (export_url(draft, "verdict"), import_url(draft, "verdict")):
        assert client.get(url).status_code == 302  # to the login page


def test_an_unknown_table_is_not_found(admin_client, draft):
    assert admin_client.get(export_url(draft, "colours")).status_code == 404
    assert admin_client.get(import_url(draft, "colours")).status_code == 404


# --- budgets -------------------------------------------------------------------------------


def test_the_export_of_a_seeded_table_costs_a_few_queries(
    admin_client, seed_draft, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client.get(export_url(seed_draft, engine.STEPS))

    assert response.status_code == 200
    assert len(rows_of(response.content.decode("utf-8-sig"))) == 2 + len(
        table_rules(seed_draft, engine.STEPS)
    )


def test_the_import_page_explains_the_file_and_costs_a_few_queries(
    admin_client, draft, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        response = admin_client.get(import_url(draft, engine.VERDICT))

    html = response.content.decode()
    assert "Line 1 holds the table" in html and 'type="file"' in html
