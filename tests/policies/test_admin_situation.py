"""A row's situation page: the rules of every table that decide along with it, edited in place
(the grid's row form, with htmx or as a page of its own that comes back), the checks re-run
after each save and their findings shown there."""

import re
from urllib.parse import quote

import pytest
from django.urls import reverse

from policies import services
from policies.models import Outcome, PolicyVersion, Rule
from tests.factories import small_policy

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
STALE = "is unchanged but now fires where the verdict changed"
# The situation page's queries, whatever the number of rules (14 measured on the seed's ~100
# rules per version, 12 on the small policy's five).
SITUATION_QUERIES = 16


def situation_url(version, key):
    return reverse("admin:policies_rule_situation", args=[version.pk, key])


def row_url(version, key, situation=None):
    url = reverse("admin:policies_rule_row", args=[version.pk, key])
    return f"{url}?situation={quote(situation)}" if situation else url


def post_of(rule: Rule, **changes):
    data = {
        "key": rule.key,
        "outcome": rule.outcome.key,
        "reason": rule.reason,
        "clauses": [c.key for c in rule.clauses.all()],
        **{f"q_{q}": choices for q, choices in rule.conditions.items()},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def body(html, key):
    found = re.search(rf'<tbody id="row-{re.escape(key)}".*?</tbody>', html, re.S)
    assert found, f"no row {key}"
    return found.group(0)


@pytest.fixture
def draft():
    return services.version_copy(version=small_policy(), by=None)


# --- a small policy ------------------------------------------------------------------------------


def test_a_drafts_situation_offers_each_of_its_rules_for_editing_there(
    admin_client, draft, django_assert_max_num_queries
):
    with django_assert_max_num_queries(SITUATION_QUERIES):
        html = admin_client.get(situation_url(draft, "lazy-dog")).content.decode()

    for key in ("lazy-dog", "dog-leash"):
        edit = row_url(draft, key, situation="lazy-dog")
        assert f'href="{edit}" hx-get="{edit}"' in body(html, key)
    assert "htmx.min.js" in html
    assert "No check finds anything wrong" in html


def test_a_published_situation_offers_no_edits(admin_client):
    published = small_policy()

    html = admin_client.get(situation_url(published, "lazy-dog")).content.decode()

    assert "<code>dog-leash</code>" in html
    assert "?situation=" not in html and "htmx.min.js" not in html


def test_with_htmx_a_situation_rule_swaps_for_the_grids_form_aimed_at_the_situation(
    admin_client, draft
):
    response = admin_client.get(row_url(draft, "dog-leash", situation="lazy-dog"), headers=HX)

    html = response.content.decode()
    assert html.lstrip().startswith('<tbody id="row-dog-leash"')
    assert f'hx-post="{row_url(draft, "dog-leash", situation="lazy-dog")}"' in html
    assert 'hx-target="#situation"' in html
    assert 'name="do"' not in html  # moving and deleting belong to the grid
    assert 'colspan="5"' in html


def test_without_javascript_the_form_is_a_page_that_comes_back_to_the_situation(
    admin_client, draft
):
    lazy = Rule.objects.get(version=draft, key="lazy-dog")

    page = admin_client.get(row_url(draft, "lazy-dog", situation="lazy-dog"))
    saved = admin_client.post(
        row_url(draft, "lazy-dog", situation="lazy-dog"), post_of(lazy, outcome="yes")
    )
    after = admin_client.get(saved["Location"].split("#")[0])

    assert "<html" in page.content.decode()
    assert f'action="{row_url(draft, "lazy-dog", situation="lazy-dog")}"' in page.content.decode()
    assert f'href="{situation_url(draft, "lazy-dog")}#row-lazy-dog"' in page.content.decode()
    assert saved.status_code == 302
    assert saved["Location"] == situation_url(draft, "lazy-dog") + "#row-lazy-dog"
    # The checks ran again: the leash step, unchanged, was written for the old verdict.
    assert STALE in body(after.content.decode(), "dog-leash")
    assert "1 warning" in after.content.decode()


def test_with_htmx_a_save_returns_the_situation_with_the_checks_re_run(admin_client, draft):
    lazy = Rule.objects.get(version=draft, key="lazy-dog")
    leash = Rule.objects.get(version=draft, key="dog-leash")
    url = row_url(draft, "lazy-dog", situation="lazy-dog")

    flagged = admin_client.post(url, post_of(lazy, outcome="yes"), headers=HX).content.decode()
    fixed = admin_client.post(
        row_url(draft, "dog-leash", situation="lazy-dog"),
        post_of(leash, reason="Walked or not, a leash."),
        headers=HX,
    )

    assert flagged.lstrip().startswith('<div id="situation">') and "<html" not in flagged
    assert STALE in body(flagged, "dog-leash")
    assert "Findings on this situation" in flagged
    assert fixed["HX-Reswap"] == 'outerHTML show:[id="row-dog-leash"]:top'
    assert STALE not in fixed.content.decode()
    assert "Walked or not, a leash." in body(fixed.content.decode(), "dog-leash")


def test_a_refused_save_comes_back_as_the_form_in_its_row(admin_client, draft):
    leash = Rule.objects.get(version=draft, key="dog-leash")

    response = admin_client.post(
        row_url(draft, "dog-leash", situation="lazy-dog"), post_of(leash, key="Bad Id"), headers=HX
    )

    assert response["HX-Retarget"] == '[id="row-dog-leash"]'
    assert "errornote" in response.content.decode()
    assert Rule.objects.filter(version=draft, key="dog-leash").exists()


def test_cancel_with_htmx_shows_the_situations_row_again(admin_client, draft):
    url = reverse("admin:policies_rule_row", args=[draft.pk, "dog-leash"])

    response = admin_client.get(f"{url}?show=1&situation=lazy-dog", headers=HX)

    html = response.content.decode()
    assert html.lstrip().startswith('<tbody id="row-dog-leash"') and "answer set" in html


def test_renaming_the_situations_own_rule_keeps_the_situation(admin_client, draft):
    lazy = Rule.objects.get(version=draft, key="lazy-dog")

    response = admin_client.post(
        row_url(draft, "lazy-dog", situation="lazy-dog"), post_of(lazy, key="unwalked-dog")
    )

    assert response["Location"] == situation_url(draft, "unwalked-dog") + "#row-unwalked-dog"


def test_an_htmx_get_of_the_situation_is_its_partial(admin_client, draft):
    response = admin_client.get(situation_url(draft, "lazy-dog"), headers=HX)

    assert response.content.decode().lstrip().startswith('<div id="situation">')


# --- the seeded policy ---------------------------------------------------------------------------


@pytest.fixture
def seed_draft(seeded):
    newest = PolicyVersion.objects.filter(policy__slug="claude-code", status="published")
    return services.version_copy(version=newest.order_by("-effective_date")[0], by=None)


def test_on_the_seed_a_verdict_and_its_sign_in_are_read_and_fixed_together(
    admin_client, seed_draft, django_assert_max_num_queries
):
    anchor = "agent-sdk-for-others-subscription.verdict"
    sign_in = Rule.objects.get(
        version=seed_draft, key="agent-sdk-for-others-subscription.auth_methods"
    )
    verdict = Rule.objects.get(version=seed_draft, key=anchor)
    allowed = Outcome.objects.get(version=seed_draft, table="verdict", key="allowed")
    assert verdict.outcome.key != allowed.key

    with django_assert_max_num_queries(SITUATION_QUERIES):
        page = admin_client.get(situation_url(seed_draft, anchor))
    flagged = admin_client.post(
        row_url(seed_draft, anchor, situation=anchor),
        post_of(verdict, outcome="allowed"),
        headers=HX,
    ).content.decode()
    fixed = admin_client.post(
        row_url(seed_draft, sign_in.key, situation=anchor),
        post_of(sign_in, reason="Allowed now; an API key still works best."),
        headers=HX,
    ).content.decode()

    assert page.status_code == 200
    assert STALE not in page.content.decode()
    assert re.search(r"fires on \d+ reachable answer sets", page.content.decode())
    assert f"{STALE} from not_allowed to allowed" in body(flagged, sign_in.key)
    assert STALE not in body(fixed, sign_in.key)
    assert "Allowed now; an API key still works best." in body(fixed, sign_in.key)
