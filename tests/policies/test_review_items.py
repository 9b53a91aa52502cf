"""A draft started from drift findings: its items to review (each affected clause and each rule
citing it, with the finding), cleared when edited or confirmed unchanged (who and when), shown
as a checklist on the draft's page, blocking publication while open, copied nowhere and frozen
once published. On the seeded policy, whose copies show three reviewed rewordings."""

import datetime as dt

import pytest
from django.urls import reverse

from policies import catalog, services
from policies.models import (
    Clause,
    Policy,
    PolicyVersion,
    ReviewItem,
    Rule,
    VersionLockedError,
)

FINDING_VERSION, CLAUSE, SINCE = "2026-02-18", "auth-cloud-providers", dt.date(2026, 3, 18)


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "pw")


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def the_finding() -> catalog.DriftFinding:
    (finding,) = [
        f
        for f in catalog.drift_findings("claude-code", FINDING_VERSION)
        if f.clause == CLAUSE and f.since == SINCE
    ]
    return finding


def source_version() -> PolicyVersion:
    return PolicyVersion.objects.get(policy__slug="claude-code", effective_date=FINDING_VERSION)


@pytest.fixture
def draft(seeded, admin_user) -> PolicyVersion:
    return services.draft_from_findings(
        version=source_version(), findings=[the_finding()], by=admin_user
    )


def page_url(version: PolicyVersion) -> str:
    return reverse("admin:policies_policyversion_change", args=[version.pk])


def open_items(version: PolicyVersion) -> list[tuple[str, str]]:
    return sorted((i.kind, i.key) for i in ReviewItem.objects.filter(version=version, cleared=""))


def test_the_draft_records_the_clause_and_each_rule_citing_it_with_the_finding(draft):
    finding = the_finding()
    items = list(ReviewItem.objects.filter(version=draft))

    assert finding.rules, "the seeded finding has citing rules"
    assert sorted((i.kind, i.key) for i in items) == sorted(
        [("clause", CLAUSE)] + [("rule", key) for key in finding.rules]
    )
    for item in items:
        assert (item.clause, item.finding_version, item.status, item.since) == (
            CLAUSE,
            FINDING_VERSION,
            finding.status,
            SINCE,
        )
        assert item.closest == finding.closest and item.closest
        assert item.similarity == pytest.approx(finding.similarity)
        assert item.is_open and item.cleared_by is None and item.cleared_at is None
    # Every rule listed does cite the clause in the draft.
    citing = set(
        Rule.objects.filter(version=draft, clauses__key=CLAUSE).values_list("key", flat=True)
    )
    assert {i.key for i in items if i.kind == "rule"} == citing


def test_a_draft_from_all_findings_of_a_version_lists_each_findings_items(staff_client, seeded):
    policy = Policy.objects.get(slug="claude-code")
    version = policy.versions.get(effective_date="2026-04-04")
    findings = catalog.drift_findings("claude-code", "2026-04-04")
    assert len({f.clause for f in findings}) >= 2

    response = staff_client.post(
        reverse("admin:policies_policy_drift", args=[policy.pk]),
        {"draft": "1", "version": version.pk},
    )

    draft = policy.versions.get(status="draft")
    assert response.status_code == 302 and response["Location"].endswith("#review-items")
    clause_items = set(
        ReviewItem.objects.filter(version=draft, kind="clause").values_list("key", flat=True)
    )
    assert clause_items == {f.clause for f in findings}


def test_editing_the_clauses_quote_clears_its_item_and_records_who(draft, admin_user):
    clause = Clause.objects.get(version=draft, key=CLAUSE)
    clause.quote = clause.quote + " (checked)"
    clause.save()

    cleared = services.review_items_sync(version=draft, by=admin_user)

    assert [(i.kind, i.key) for i in cleared] == [("clause", CLAUSE)]
    item = ReviewItem.objects.get(version=draft, kind="clause")
    assert (item.cleared, item.cleared_by) == ("edited", admin_user)
    assert item.cleared_at is not None
    assert ("clause", CLAUSE) not in open_items(draft)
    assert any(kind == "rule" for kind, _ in open_items(draft))


def test_saving_a_rule_unchanged_leaves_it_open_and_changing_its_reason_clears_it(
    staff_client, draft, admin_user
):
    key = the_finding().rules[0]
    rule = Rule.objects.get(version=draft, key=key)
    row_url = reverse("admin:policies_rule_row", args=[draft.pk, key])
    form = staff_client.get(row_url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value is not None}

    staff_client.post(row_url, data)  # saved as it was: nothing was reviewed
    assert ("rule", key) in open_items(draft)

    staff_client.post(row_url, {**data, "reason": rule.reason + " The page still says so."})

    item = ReviewItem.objects.get(version=draft, kind="rule", key=key)
    assert (item.cleared, item.cleared_by) == ("edited", admin_user)


def test_moving_a_rule_is_not_an_edit_of_it(draft):
    key = the_finding().rules[0]
    Rule.objects.filter(version=draft, key=key).update(priority=999)

    assert services.review_items_sync(version=draft) == []
    assert ("rule", key) in open_items(draft)


def test_confirming_an_item_records_who_and_when_and_cannot_be_repeated(
    staff_client, draft, admin_user
):
    item = ReviewItem.objects.get(version=draft, kind="clause")

    response = staff_client.post(
        reverse("admin:policies_review_confirm", args=[draft.pk]), {"item": item.pk}
    )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.cleared, item.cleared_by) == ("confirmed", admin_user)
    assert item.cleared_at is not None
    with pytest.raises(services.ReviewRefused, match="already cleared"):
        services.review_item_confirm(item=item, by=admin_user)


def test_publishing_is_refused_naming_the_open_items_then_goes_through(draft, admin_user):
    day = dt.date(2026, 2, 20)  # before the page was reworded: the quotes still check
    with pytest.raises(services.PublishRefused) as refused:
        services.version_publish(version=draft, by=admin_user, effective_date=day, notes="x")

    assert refused.value.code == "open_review_items"
    assert f"clause {CLAUSE}" in refused.value.message
    draft.refresh_from_db()
    assert draft.is_draft

    for item in ReviewItem.objects.filter(version=draft):
        services.review_item_confirm(item=item, by=admin_user)
    published = services.version_publish(
        version=draft, by=admin_user, effective_date=day, notes="Reviewed the rewording."
    )

    assert published.status == "published"
    item = ReviewItem.objects.filter(version=published).first()
    assert item is not None
    item.cleared = ""
    with pytest.raises(VersionLockedError):
        item.save()
    with pytest.raises(VersionLockedError):
        ReviewItem.objects.filter(version=published).update(cleared="")
    with pytest.raises(services.ReviewRefused, match="published"):
        services.review_item_confirm(item=item, by=admin_user)


def test_an_edit_made_in_the_shell_is_seen_when_publishing(draft, admin_user):
    for item in ReviewItem.objects.filter(version=draft, kind="rule"):
        services.review_item_confirm(item=item, by=admin_user)
    Clause.objects.filter(version=draft, key=CLAUSE).update(source_version="2026-03-18")

    with pytest.raises(services.PublishRefused) as refused:  # the edited quote no longer checks
        services.version_publish(
            version=draft, by=admin_user, effective_date=dt.date(2026, 12, 30), notes="x"
        )

    assert refused.value.code != "open_review_items"
    assert open_items(draft) == []


def test_a_further_draft_copies_no_items(draft, admin_user):
    further = services.version_copy(version=draft, by=admin_user)

    assert not ReviewItem.objects.filter(version=further).exists()
    assert ReviewItem.objects.filter(version=draft).exists()


def test_the_drafts_page_shows_the_checklist_and_marks_the_rows_within_budget(
    staff_client, draft, django_assert_max_num_queries
):
    url = page_url(draft)
    staff_client.get(url)  # warm: documents and copies read once per process
    with django_assert_max_num_queries(28):  # the version page's 27, and the items
        response = staff_client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    items = ReviewItem.objects.filter(version=draft)
    assert f"To review: {items.count()} of {items.count()} open" in html
    for item in items:
        assert f"Confirm {item.kind} {item.key} unchanged" in html
    rule = the_finding().rules[0]
    assert html.count(" to-review") == len(the_finding().rules)
    assert f'id="row-{rule}" class="grid-row' in html
    assert "since 2026-03-18" in html


def test_a_confirmed_item_shows_who_cleared_it(staff_client, draft, admin_user):
    item = ReviewItem.objects.get(version=draft, kind="clause")
    services.review_item_confirm(item=item, by=admin_user)

    html = staff_client.get(page_url(draft)).content.decode()

    assert "☑ Confirmed unchanged" in html and "by admin on" in html
    assert f"Confirm clause {CLAUSE} unchanged" not in html


def test_the_drift_page_offers_a_draft_from_the_findings_of_each_version(
    staff_client, seeded, django_assert_max_num_queries
):
    policy = Policy.objects.get(slug="claude-code")
    url = reverse("admin:policies_policy_drift", args=[policy.pk])
    staff_client.get(url)
    with django_assert_max_num_queries(18):  # measured: the drift of four versions
        html = staff_client.get(url).content.decode()

    assert f"Start a draft from the 1 finding of claude-code {FINDING_VERSION}" in html


def test_a_version_page_without_items_shows_no_checklist(staff_client, seeded):
    html = staff_client.get(page_url(source_version())).content.decode()

    assert 'id="review-items"' not in html and " to-review" not in html
