"""The decision-table grid on a version's page: budgets, rows edited in place (htmx and plain
forms), duplicate, delete, move, findings on rows, and published versions left alone."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from policies import admin_grid, engine, records, services
from policies.models import Policy, PolicyVersion, Rule
from tests.factories import small_policy

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def change_url(version):
    return reverse("admin:policies_policyversion_change", args=[version.pk])


def row_url(version, key):
    return reverse("admin:policies_rule_row", args=[version.pk, key])


def action_url(version):
    return reverse("admin:policies_rule_action", args=[version.pk])


def wide_policy(rules: int) -> PolicyVersion:
    """A draft with five questions of four choices and `rules` verdict rules."""
    questions = tuple(
        engine.Question(
            key=f"q{i}",
            text=f"Q{i}?",
            choices=tuple(engine.Choice(key=f"c{j}", label=f"C{j}") for j in range(4)),
        )
        for i in range(5)
    )
    rule_values = [engine.Rule("always", engine.VERDICT, "yes", (), "Fine.", ("c",), 0)] + [
        engine.Rule(
            f"r{n}",
            engine.VERDICT,
            "no",
            engine.conjunction({f"q{n % 5}": [f"c{n % 4}"], f"q{(n + 1) % 5}": [f"c{n % 3}"]}),
            f"Reason {n}.",
            ("c",),
            n,
        )
        for n in range(1, rules)
    ]
    values = engine.Version(
        policy=f"wide-{rules}",
        version="",
        questions=questions,
        outcomes=(
            engine.Outcome(engine.VERDICT, "no", "No", "No."),
            engine.Outcome(engine.VERDICT, "yes", "Yes", "Yes."),
        ),
        rules=tuple(rule_values),
        clauses=(engine.Clause("c", "Quote.", "https://example.com"),),
    )
    policy = Policy.objects.create(slug=f"wide-{rules}", title="Wide")
    version = PolicyVersion.objects.create(policy=policy)
    records.write(version=version, values=values)
    return version


@pytest.fixture
def draft():
    return services.version_copy(version=small_policy(), by=None)


def fields_per_form(html):
    return [
        len(re.findall(r"<(?:input|select|textarea)\b[^>]*\bname=", form))
        for form in re.findall(r"<form\b.*?</form>", html, re.S)
    ]


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rules", [20, 200])
def test_the_version_page_makes_the_same_queries_for_20_and_200_rules(
    admin_client, django_assert_max_num_queries, rules
):
    version = wide_policy(rules)

    with django_assert_max_num_queries(20):
        response = admin_client.get(change_url(version))

    assert response.status_code == 200
    assert response.content.decode().count('class="grid-row') == rules


def test_no_form_on_the_page_posts_more_than_a_few_hundred_fields(admin_client):
    version = wide_policy(200)

    html = admin_client.get(change_url(version)).content.decode()

    assert max(fields_per_form(html)) < 300


def test_the_grid_shows_one_row_per_rule_with_cells_outcome_and_hit_policy(admin_client, draft):
    html = admin_client.get(change_url(draft)).content.decode()

    assert "Hit policy priority" in html
    row = re.search(r'<tbody id="row-lazy-dog".*?</tbody>', html, re.S).group(0)
    cells = re.findall(r'<td class="(?:tested|any)">([^<]*)</td>', row)
    assert cells == ["any", "no"]
    assert "<code>no</code>" in row and "pet-act" in row


def test_rules_are_no_longer_an_inline_of_the_version(admin_client, draft):
    response = admin_client.get(change_url(draft))

    assert "rules-TOTAL_FORMS" not in response.content.decode()


def test_a_published_versions_grid_has_no_edit_buttons(admin_client):
    published = small_policy()

    html = admin_client.get(change_url(published)).content.decode()

    assert 'id="row-lazy-dog"' in html
    assert 'name="do"' not in html and ">Edit<" not in html


# --- editing a row -----------------------------------------------------------------------------


def row_post(**changes):
    data = {
        "key": "lazy-dog",
        "outcome": "no",
        "reason": "Dogs need walks.",
        "clauses": ["pet-act"],
        "q_walks": ["no"],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_without_javascript_a_row_form_is_a_page_that_redirects_back(admin_client, draft):
    page = admin_client.get(row_url(draft, "lazy-dog"))
    response = admin_client.post(
        row_url(draft, "lazy-dog"), row_post(q_pet=["cat", "dog"], q_walks=None)
    )

    assert page.status_code == 200
    assert "<html" in page.content.decode() and 'name="q_pet"' in page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == change_url(draft) + "#row-lazy-dog"
    rule = Rule.objects.get(version=draft, key="lazy-dog")
    assert rule.conditions == {"pet": ["cat", "dog"]}


def test_with_htmx_the_row_swaps_for_its_form_and_a_save_returns_the_section(admin_client, draft):
    form = admin_client.get(row_url(draft, "lazy-dog"), headers=HX)
    saved = admin_client.post(row_url(draft, "lazy-dog"), row_post(reason="Walk it."), headers=HX)

    assert form.content.decode().lstrip().startswith('<tbody id="row-lazy-dog"')
    assert "<html" not in saved.content.decode()
    assert saved.content.decode().lstrip().startswith('<div id="authoring">')
    assert "Walk it." in saved.content.decode()


def test_a_refused_row_comes_back_as_its_form_with_the_error(admin_client, draft):
    response = admin_client.post(
        row_url(draft, "lazy-dog"), row_post(key="default-yes"), headers=HX
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == '[id="row-lazy-dog"]'
    assert "errornote" in response.content.decode()
    assert Rule.objects.filter(version=draft, key="lazy-dog").exists()


def test_outcomes_and_clauses_are_offered_from_this_version_and_table_only(admin_client, draft):
    small_policy(slug="other")

    html = admin_client.get(row_url(draft, "lazy-dog")).content.decode()

    options = re.findall(r'<option value="([^"]+)"', html)
    assert options == ["no", "yes"]  # not the step outcome, nor the other policy's
    assert html.count('name="clauses"') == 1


def test_every_save_re_runs_the_checks_and_puts_the_fix_on_the_row(admin_client, draft):
    response = admin_client.post(row_url(draft, "lazy-dog"), row_post(clauses=None), headers=HX)

    html = response.content.decode()
    row = re.search(r'<tbody id="row-lazy-dog".*?</tbody>', html, re.S).group(0)
    assert "cites no clause. Edit verdict rule" in row
    assert f'href="{row_url(draft, "lazy-dog")}"' in row
    assert "1 error" in html


def test_a_new_row_can_be_added_with_its_cells_prefilled(admin_client, draft):
    url = reverse("admin:policies_version_rule_add", args=[draft.pk]) + "?table=verdict&pet=cat"
    form = admin_client.get(url).content.decode()
    response = admin_client.post(
        url, row_post(key="no-cats", q_walks=None, q_pet=["cat"], reason="Cats no.")
    )

    assert re.search(r'value="cat"[^>]*checked', form)
    assert response.status_code == 302
    rule = Rule.objects.get(version=draft, key="no-cats")
    assert rule.conditions == {"pet": ["cat"]} and rule.outcome.key == "no"


@pytest.mark.parametrize(
    "action, expected",
    [
        ("up no-fish", ["default-yes", "no-fish", "lazy-dog"]),
        ("down default-yes", ["lazy-dog", "default-yes", "no-fish"]),
        ("duplicate default-yes", ["default-yes", "default-yes.2", "lazy-dog", "no-fish"]),
        ("delete lazy-dog", ["default-yes", "no-fish"]),
    ],
)
def test_rows_can_be_moved_duplicated_and_deleted(admin_client, draft, action, expected):
    # Before: every rule has priority 0, so the order is by id: default-yes, lazy-dog, no-fish.
    response = admin_client.post(action_url(draft), {"do": action})

    assert response.status_code == 302
    keys = list(
        Rule.objects.filter(version=draft, outcome__table="verdict")
        .order_by("priority", "key")
        .values_list("key", flat=True)
    )
    assert keys == expected


def test_a_duplicated_row_keeps_its_clauses(admin_client, draft):
    admin_client.post(action_url(draft), {"do": "duplicate lazy-dog"}, headers=HX)

    copy = Rule.objects.get(version=draft, key="lazy-dog.2")
    assert [c.key for c in copy.clauses.all()] == ["pet-act"]


def test_a_published_version_refuses_row_writes_with_a_message(admin_client):
    published = small_policy()

    edit = admin_client.post(row_url(published, "lazy-dog"), row_post(reason="x"), follow=True)
    action = admin_client.post(action_url(published), {"do": "delete lazy-dog"}, follow=True)

    for response in (edit, action):
        assert response.status_code == 200
        assert "is published and cannot be changed" in response.content.decode()
    assert Rule.objects.get(version=published, key="lazy-dog").reason != "x"
    assert Rule.objects.filter(version=published).count() == 4


# --- simulate ----------------------------------------------------------------------------------


def simulate_url(version):
    return reverse("admin:policies_simulate", args=[version.pk])


def test_simulate_walks_the_question_flow_and_marks_the_rows(admin_client, draft):
    asked = admin_client.get(
        change_url(draft) + "?simulate=1&answer-pet=dog", headers={}
    ).content.decode()
    done = admin_client.get(
        simulate_url(draft) + "?simulate=1&answer-pet=dog&answer-walks=no", headers=HX
    ).content.decode()

    assert 'name="answer-walks"' in asked  # the next question along the flow
    assert "Verdict: none yet" in asked
    assert "Verdict: no" in done and "leash" in done
    lazy = re.search(r'<tbody id="row-lazy-dog"[^>]*>', done).group(0)
    assert "fired" in lazy
    default = re.search(r'<tbody id="row-default-yes"[^>]*>', done).group(0)
    assert "matched-lost" in default
    no_fish = re.search(r'<tbody id="row-no-fish".*?</tbody>', done, re.S).group(0)
    assert 'class="tested miss"' in no_fish


def test_simulate_without_javascript_is_the_versions_page_with_the_answers(admin_client, draft):
    response = admin_client.get(simulate_url(draft) + "?simulate=1&answer-pet=cat")

    assert response.status_code == 302
    assert response["Location"].startswith(change_url(draft) + "?")
    assert "answer-pet=cat" in response["Location"]


def test_save_as_scenario_stores_the_answers_and_current_outcome(admin_client, draft):
    url = reverse("admin:policies_save_scenario", args=[draft.pk])

    response = admin_client.post(
        url, {"name": "Lazy dog", "answer-pet": "dog", "answer-walks": "no"}, headers=HX
    )

    scenario = draft.scenarios.get(name="Lazy dog")
    assert (scenario.answers, scenario.verdict, scenario.must_include) == (
        {"pet": "dog", "walks": "no"},
        "no",
        ["leash"],
    )
    assert "Lazy dog" in response.content.decode()  # the report runs it at once


def test_save_as_scenario_on_a_version_published_meanwhile_is_a_message(
    admin_client, draft, monkeypatch
):
    simulation = admin_grid._simulation

    def publish_meanwhile(*args, **kwargs):
        # Another admin publishes the draft while this request is under way.
        if PolicyVersion.objects.get(pk=draft.pk).is_draft:
            services.version_publish(
                version=draft, by=None, effective_date=dt.date(2025, 9, 1), notes="Meanwhile."
            )
        return simulation(*args, **kwargs)

    monkeypatch.setattr(admin_grid, "_simulation", publish_meanwhile)
    url = reverse("admin:policies_save_scenario", args=[draft.pk])

    response = admin_client.post(
        url, {"name": "Lazy dog", "answer-pet": "dog", "answer-walks": "no"}, follow=True
    )

    assert response.status_code == 200
    assert "is published and cannot be changed" in response.content.decode()
    assert not draft.scenarios.filter(name="Lazy dog").exists()


def test_save_as_scenario_refuses_incomplete_answers(admin_client, draft):
    url = reverse("admin:policies_save_scenario", args=[draft.pk])

    response = admin_client.post(url, {"name": "Half", "answer-pet": "dog"}, follow=True)

    assert "Answer every question" in response.content.decode()
    assert not draft.scenarios.filter(name="Half").exists()


def test_a_rows_form_moves_duplicates_and_deletes_it_without_javascript(admin_client, draft):
    html = admin_client.get(row_url(draft, "lazy-dog")).content.decode()

    for value in ["up", "down", "duplicate", "delete"]:
        assert f'name="do" value="{value} lazy-dog" formaction="{action_url(draft)}"' in html
    response = admin_client.post(action_url(draft), {**row_post(), "do": "delete lazy-dog"})
    assert response.status_code == 302
    assert not Rule.objects.filter(version=draft, key="lazy-dog").exists()


def test_compare_shows_old_and_new_values_with_a_link_to_the_row(admin_client, draft):
    Rule.objects.filter(version=draft, key="lazy-dog").update(reason="Walk your dog.")

    html = admin_client.get(
        reverse("admin:policies_version_compare", args=[draft.pk])
    ).content.decode()

    assert f'<a href="{change_url(draft)}#row-lazy-dog"><code>lazy-dog</code></a>' in html
    assert "<del>Because of lazy-dog.</del> → <ins>Walk your dog.</ins>" in html


def test_a_rows_situation_lists_the_rules_of_every_table_deciding_with_it(admin_client, draft):
    url = reverse("admin:policies_rule_situation", args=[draft.pk, "lazy-dog"])

    html = admin_client.get(url).content.decode()

    assert "fires on 1 reachable answer set" in html
    assert "<code>dog-leash</code>" in html  # the step of the same situation
    assert "<code>default-yes</code>" not in html  # matched, but lost to lazy-dog


def test_a_kept_rule_of_a_situation_whose_verdict_changed_is_flagged(admin_client, draft):
    # Dogs that are not walked now get "yes"; the leash step, unchanged, was written for "no".
    response = admin_client.post(row_url(draft, "lazy-dog"), row_post(outcome="yes"), headers=HX)

    html = response.content.decode()
    row = re.search(r'<tbody id="row-dog-leash".*?</tbody>', html, re.S).group(0)
    assert "is unchanged but now fires where the verdict changed from no to yes" in row
    assert "pet=dog, walks=no" in row
    assert f'href="{row_url(draft, "dog-leash")}"' in row


def test_a_situation_is_not_flagged_once_its_rule_was_edited_too(admin_client, draft):
    Rule.objects.filter(version=draft, key="dog-leash").update(reason="Reviewed for yes.")

    response = admin_client.post(row_url(draft, "lazy-dog"), row_post(outcome="yes"), headers=HX)

    assert "is unchanged but now fires" not in response.content.decode()


def test_compare_lists_every_changed_answer_set_paged(admin_client, draft, monkeypatch):
    from policies import admin as policies_admin

    monkeypatch.setattr(policies_admin, "COMPARE_PAGE_SIZE", 1)
    Rule.objects.filter(version=draft, key__in=["no-fish", "lazy-dog"]).delete()
    url = reverse("admin:policies_version_compare", args=[draft.pk])

    first = admin_client.get(url).content.decode()
    second = admin_client.get(url + f"?with={draft.based_on_id}&page=2").content.decode()

    def listed(html):
        found = re.search(r'<div class="module" id="all-differences">.*?</table>', html, re.S)
        assert found is not None
        return found.group(0)

    assert "Every changed answer set (2)" in first and "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert ("pet=fish" in listed(first)) != ("pet=fish" in listed(second))
