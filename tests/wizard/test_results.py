"""Saved results: permanent links pinned to their version, re-checks, privacy, exports, caching."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from policies import catalog
from tests.factories import (
    pet_version,
    small_policy,
)
from tests.wizard.conftest import answer_all, save_result
from wizard.models import TOKEN_LENGTH, Result, looks_like_token
from wizard.services import result_create

pytestmark = pytest.mark.django_db

T = TypeVar("T")


PET_VERSION_LINK = '<a href="/pets/versions/2025-01-01/">2025-01-01</a>'


def newer_version_banning_cats(policy, effective_date=None):
    """A newer version of small_policy where cats are no longer allowed and need a collar."""
    return pet_version(
        policy,
        effective_date or timezone.localdate() - dt.timedelta(days=1),
        banned="cat",
        step=("collar", "cat"),
        clause={"quote": "The new act says.", "source_version": "2026"},
    )


def at_once(action: Callable[[], T], times: int = 2) -> list[T]:
    """What `action` returns, run in `times` threads started together, each with (and then
    closing) its own database connection."""
    results: list[T] = []

    def run() -> None:
        try:
            results.append(action())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def saved_cat(client, **options):
    small_policy()
    answer_all(client, pet="cat")
    response = save_result(client, **options)
    return Result.objects.get(), response


def test_finishing_the_wizard_saves_a_result_with_an_unguessable_token(client):
    result, response = saved_cat(client)
    assert response.status_code == 200
    assert len(result.token) == TOKEN_LENGTH and looks_like_token(result.token)
    assert not result.token.isdigit()
    assert result.answers == {"pet": "cat"}
    assert result.snapshot["verdict"] == "yes"
    assert result.snapshot["version"] == "2025-01-01"
    html = response.content.decode()
    assert result.get_absolute_url() in html
    assert "/revoke/" in html  # the creator's browser sees its revoke link


def test_two_results_never_share_a_token(client):
    version = small_policy()
    tokens = {result_create(version=version, answers={"pet": "cat"})[0].token for _ in range(20)}
    assert len(tokens) == 20


def test_the_share_page_shows_the_snapshot_the_version_and_the_answers(client):
    result, _ = saved_cat(client)
    other = client.__class__()  # someone else, without the creator's session
    response = other.get(result.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Checked against version <strong>{PET_VERSION_LINK}</strong>" in html
    assert "Which pet?" in html and ">Cat<" in html
    assert "/revoke/" not in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in html


def test_a_newer_version_does_not_change_the_saved_result_but_offers_a_recheck(client):
    result, _ = saved_cat(client)
    newer_version_banning_cats(result.version.policy)

    html = client.get(result.get_absolute_url()).content.decode()
    assert "The policy changed on" in html
    # The notice prints too (only its button does not): a paper copy says it is stale.
    assert '<div class="notification" role="region" aria-labelledby="policy-changed-title">' in html
    assert '<h1 class="panel__title">Yes</h1>' in html  # still the old outcome
    assert reverse("results:recheck", args=[result.token]) in html

    recheck = client.get(reverse("results:recheck", args=[result.token])).content.decode()
    assert "Changed: Yes → No" in recheck
    assert "<strong>Added:</strong> Collar" in recheck
    assert "The new act says." not in html


def test_a_recheck_can_be_saved_as_a_new_result_linked_to_the_old(client):
    result, _ = saved_cat(client)
    newer = newer_version_banning_cats(result.version.policy)
    response = client.post(reverse("results:recheck", args=[result.token]))
    assert response.status_code == 302
    new = Result.objects.exclude(pk=result.pk).get()
    assert new.previous == result
    assert new.version == newer
    assert new.snapshot["verdict"] == "no"
    result.refresh_from_db()
    assert result.snapshot["verdict"] == "yes"


def test_two_rechecks_of_the_same_result_make_two_results(client):
    result, _ = saved_cat(client)
    newer_version_banning_cats(result.version.policy)
    url = reverse("results:recheck", args=[result.token])
    client.post(url)
    client.post(url)
    assert Result.objects.filter(previous=result).count() == 2


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database refuses concurrent writers; run on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_rechecks_both_succeed(client):
    result, _ = saved_cat(client)
    newer_version_banning_cats(result.version.policy)
    url = reverse("results:recheck", args=[result.token])

    statuses = at_once(lambda: client.__class__().post(url).status_code)

    assert statuses == [302, 302]
    assert Result.objects.filter(previous=result).count() == 2


def form_attempt(html: str) -> str:
    match = re.search(r'name="attempt" value="([^"]+)"', html)
    assert match is not None, "the save form carries no attempt id"
    return match.group(1)


def test_the_same_save_form_sent_twice_saves_one_result(client):
    small_policy()
    answer_all(client, pet="cat")
    attempt = form_attempt(client.get(reverse("wizard:result", args=["pets"])).content.decode())

    first = client.post(reverse("wizard:result", args=["pets"]), {"attempt": attempt})
    second = client.post(reverse("wizard:result", args=["pets"]), {"attempt": attempt})

    result = Result.objects.get()
    assert first["Location"] == second["Location"] == reverse("results:saved", args=[result.token])
    assert result.save_attempt == attempt
    assert "/revoke/" in client.get(second["Location"]).content.decode()


def test_each_new_page_saves_a_new_result(client):
    small_policy()
    answer_all(client, pet="cat")
    for _ in range(2):
        page = client.get(reverse("wizard:result", args=["pets"])).content.decode()
        client.post(reverse("wizard:result", args=["pets"]), {"attempt": form_attempt(page)})

    assert Result.objects.count() == 2


@pytest.mark.parametrize("attempt", ["x", "a" * 23, "bad chars here!!!!!!!!", "<script>"])
def test_a_changed_attempt_id_is_refused_with_a_message_and_nothing_saved(client, attempt):
    small_policy()
    answer_all(client, pet="cat")

    response = client.post(reverse("wizard:result", args=["pets"]), {"attempt": attempt})

    assert response.status_code == 400
    assert "reload the page and save again" in response.content.decode()
    assert not Result.objects.exists()


def test_the_same_recheck_form_sent_twice_saves_one_new_result(client):
    result, _ = saved_cat(client)
    newer_version_banning_cats(result.version.policy)
    url = reverse("results:recheck", args=[result.token])
    attempt = form_attempt(client.get(url).content.decode())

    first = client.post(url, {"attempt": attempt})
    second = client.post(url, {"attempt": attempt})

    new = Result.objects.get(previous=result)
    assert first["Location"] == second["Location"] == reverse("results:saved", args=[new.token])


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's shared in-memory test database refuses concurrent writers; run on PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_the_same_save_form_sent_twice_at_once_saves_one_result(client):
    small_policy()
    answer_all(client, pet="cat")
    attempt = form_attempt(client.get(reverse("wizard:result", args=["pets"])).content.decode())

    def save() -> str:
        same_browser = client.__class__()  # the same cookies, its own connection
        same_browser.cookies = client.cookies
        response = same_browser.post(reverse("wizard:result", args=["pets"]), {"attempt": attempt})
        return response["Location"]

    locations = at_once(save)

    result = Result.objects.get()
    assert locations == [reverse("results:saved", args=[result.token])] * 2


def test_outcome_only_links_never_contain_the_answers(client):
    result, saved_page = saved_cat(client, outcome_only="1")
    assert result.outcome_only
    for response in (
        saved_page,
        client.get(result.get_absolute_url()),
        client.get(reverse("results:download", args=[result.token, "json"])),
        client.get(reverse("results:download", args=[result.token, "md"])),
        client.get(f"/api/v1/results/{result.token}"),
    ):
        body = response.content.decode()
        assert response.status_code == 200
        assert "Which pet?" not in body and "Cat" not in body, response
    data = client.get(f"/api/v1/results/{result.token}").json()
    assert "answers" not in data and "questions" not in data
    assert data["verdict"] == "yes"


def test_an_invalid_expiry_is_a_form_error_and_saves_nothing(client):
    small_policy()
    answer_all(client, pet="cat")
    response = client.post(reverse("wizard:result", args=["pets"]), {"expiry": "12"})
    assert response.status_code == 400
    assert "Choose when the link stops working" in response.content.decode()
    assert not Result.objects.exists()


def test_an_expired_result_answers_410(client):
    result, _ = saved_cat(client, expiry="7")
    assert result.expires_at is not None
    Result.objects.filter(pk=result.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(result.get_absolute_url())
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert client.get(f"/api/v1/results/{result.token}").status_code == 410


def test_the_creator_can_revoke_once_and_the_link_then_answers_410(client):
    result, saved_page = saved_cat(client)
    html = saved_page.content.decode()
    revoke_path = html[html.index("/r/" + result.token + "/revoke/") :].split('"')[0]
    assert "Revoke this result link?" in client.get(revoke_path).content.decode()
    assert "is revoked" in client.post(revoke_path).content.decode()
    assert client.get(result.get_absolute_url()).status_code == 410
    again = client.post(revoke_path)
    assert "already revoked" in again.content.decode()
    first = Result.objects.get().revoked_at
    client.post(revoke_path)
    assert Result.objects.get().revoked_at == first


def test_a_wrong_revoke_secret_changes_nothing(client):
    result, _ = saved_cat(client)
    response = client.post(reverse("results:revoke", args=[result.token, "x" * 30]))
    assert response.status_code == 403
    assert "not valid" in response.content.decode()
    result.refresh_from_db()
    assert result.revoked_at is None


@pytest.mark.parametrize("token", ["123", "a" * 30, "../etc/passwd" + "a" * 17, "a" * 31])
def test_malformed_or_unknown_tokens_are_404(client, token):
    assert client.get(f"/r/{token}/").status_code == 404
    assert client.get(f"/api/v1/results/{token}").status_code == 404


def test_the_share_page_costs_at_most_three_queries_and_revalidates_with_304(
    client, django_assert_max_num_queries
):
    result, _ = saved_cat(client)
    other = client.__class__()
    catalog.forget_published_versions()  # the worst case: nothing cached
    # The result, the published versions, and its newest re-check (in the ETag too).
    with django_assert_max_num_queries(3):
        first = other.get(result.get_absolute_url())
    etag = first["ETag"]
    assert etag
    with django_assert_max_num_queries(3):
        again = other.get(result.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""


def test_the_etag_changes_when_a_newer_version_takes_effect(client):
    result, _ = saved_cat(client)
    before = client.get(result.get_absolute_url())["ETag"]
    newer_version_banning_cats(result.version.policy)
    response = client.get(result.get_absolute_url(), HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200
    assert response["ETag"] != before


def test_downloads_give_the_api_shape_and_markdown(client):
    result, _ = saved_cat(client)
    data = json.loads(client.get(reverse("results:download", args=[result.token, "json"])).content)
    assert data["verdict"] == "yes"
    assert data["result_url"].endswith(result.get_absolute_url())
    assert {"policy", "version", "auth_methods", "terms", "steps", "reasons"} <= set(data)
    markdown = client.get(reverse("results:download", args=[result.token, "md"]))
    assert markdown["Content-Type"].startswith("text/markdown")
    text = markdown.content.decode()
    assert text.startswith("# Pet licence: Yes")
    assert "Checked against version 2025-01-01" in text


def test_the_api_saves_a_result_when_asked(client):
    small_policy()
    response = client.post(
        "/api/v1/policies/pets/evaluate",
        {"answers": {"pet": "cat"}, "save": True},
        content_type="application/json",
    )
    data = response.json()
    assert response.status_code == 200
    assert data["result_url"].startswith("http://testserver/r/")
    token = data["result_url"].rstrip("/").rsplit("/", 1)[1]
    assert client.get(f"/api/v1/results/{token}").json()["verdict"] == "yes"
    assert "/revoke/" in data["revoke_url"]


def test_the_api_refuses_to_save_incomplete_answers(client):
    small_policy()
    response = client.post(
        "/api/v1/policies/pets/evaluate",
        {"answers": {"pet": "dog"}, "save": True},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "walks" in response.json()["errors"]["save"]
    assert not Result.objects.exists()


def test_staff_can_revoke_any_result_in_the_admin(admin_client, client):
    result, _ = saved_cat(client)
    response = admin_client.post(
        reverse("admin:wizard_result_changelist"),
        {"action": "revoke_results", "_selected_action": [result.pk]},
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.revoked_at is not None


def test_a_saved_result_says_what_would_change_it_computed_from_the_rules(seeded, client):
    answer_all(client, "claude-code", plan="pro", tool="claude_code", audience="just_me", phi="no")
    html = save_result(client, "claude-code").content.decode()
    result = Result.objects.get()
    changes = result.snapshot["what_would_change"]
    assert changes and all(change["verdict"] != "allowed" for change in changes)
    assert "What would change this" in html
    assert changes[0]["sentence"] in html.replace("&quot;", '"').replace("&#x27;", "'")


def test_outcome_only_results_hide_what_would_change(client):
    result, _ = saved_cat(client, outcome_only="1")
    assert "what_would_change" in result.snapshot
    assert "what_would_change" not in result.public_snapshot


def test_result_pages_with_their_own_forms_keep_the_referrer_on_this_site(client):
    result, _ = saved_cat(client)
    recheck = client.get(reverse("results:recheck", args=[result.token]))
    revoke = client.get(reverse("results:revoke", args=[result.token, "x" * 30]))
    assert recheck["Referrer-Policy"] == revoke["Referrer-Policy"] == "same-origin"
    for response in (recheck, revoke):
        assert "noindex" in response["X-Robots-Tag"]


def test_every_saved_result_response_is_private_and_uncached(client):
    result, _ = saved_cat(client)
    url = result.get_absolute_url()
    page = client.get(url)
    responses = {
        "share": page,
        "304": client.get(url, HTTP_IF_NONE_MATCH=page["ETag"]),
        "json": client.get(reverse("results:download", args=[result.token, "json"])),
        "md": client.get(reverse("results:download", args=[result.token, "md"])),
        "api": client.get(f"/api/v1/results/{result.token}"),
        "api 404": client.get(f"/api/v1/results/{'a' * 30}"),
    }
    Result.objects.update(revoked_at=timezone.now())
    responses["410"] = client.get(url)
    responses["api 410"] = client.get(f"/api/v1/results/{result.token}")

    for name, response in responses.items():
        control = response["Cache-Control"]
        assert "private" in control, name
        assert "no-store" in control or ("no-cache" in control and name in ("share", "304"))
    assert responses["304"].status_code == 304
    assert responses["410"].status_code == responses["api 410"].status_code == 410


def test_an_outcome_only_json_lists_no_rule_ids(client):
    result, _ = saved_cat(client, outcome_only=True)
    assert result.snapshot["rules"]  # kept for the creator's own re-check

    for body in (
        client.get(reverse("results:download", args=[result.token, "json"])).json(),
        client.get(f"/api/v1/results/{result.token}").json(),
    ):
        assert "rules" not in body
        assert "answers" not in body


def test_staff_who_may_only_view_results_cannot_revoke_them(client, django_user_model):
    result, _ = saved_cat(client)
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_result"))
    client.force_login(viewer)

    page = client.get("/admin/wizard/result/")
    client.post(
        "/admin/wizard/result/",
        {"action": "revoke_results", "_selected_action": [result.pk]},
    )

    assert page.status_code == 200
    assert "revoke_results" not in page.content.decode()
    result.refresh_from_db()
    assert result.revoked_at is None


def test_staff_cannot_delete_saved_results_only_revoke_them(client, admin_user):
    result, _ = saved_cat(client)
    client.force_login(admin_user)

    page = client.get("/admin/wizard/result/").content.decode()
    client.post(
        "/admin/wizard/result/", {"action": "delete_selected", "_selected_action": [result.pk]}
    )
    delete = client.get(f"/admin/wizard/result/{result.pk}/delete/")

    assert "delete_selected" not in page
    assert "revoke_results" in page
    assert Result.objects.filter(pk=result.pk).exists()
    assert delete.status_code == 403


def test_the_admin_favicon_request_does_not_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 204
