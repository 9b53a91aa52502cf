"""A renamed policy's old slug leads on: every wizard, API, history, sources and feed URL under
it redirects for good to the same path under the new slug (301 for GET, 308 for POST, the API's
308 naming the new slug in its error shape), and slugs never renamed still answer 404."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from policies import services
from policies.loading import load_yaml, parse_document, policy_load
from policies.models import Policy
from tests.factories import small_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def renamed():
    version = small_policy()
    services.policy_rename(policy=version.policy, slug="pet-permits", by=None)
    return version


@pytest.mark.parametrize(
    "path",
    [
        "/pets/",
        "/pets/questions/pet/",
        "/pets/check/",
        "/pets/result/",
        "/pets/versions/",
        "/pets/versions/2025-01-01/",
        "/pets/versions/compare/?from=2025-01-01&to=2025-01-01",
        "/pets/changes.atom",
        "/sources/pets/2025-01-01/pet-act/",
        "/api/v1/policies/pets",
        "/api/v1/policies/pets?version=2025-01-01",
    ],
)
def test_every_old_get_url_redirects_permanently_to_the_same_path(client, renamed, path):
    response = client.get(path)

    assert response.status_code == 301
    assert response["Location"] == path.replace("pets", "pet-permits", 1)


def test_the_new_url_answers(client, renamed):
    assert client.get("/pet-permits/").status_code == 200
    assert client.get("/api/v1/policies/pet-permits").json()["slug"] == "pet-permits"


def test_a_post_to_the_old_api_is_a_308_naming_the_new_slug(client, renamed):
    body = json.dumps({"answers": {"pet": "cat"}})

    response = client.post("/api/v1/policies/pets/evaluate", body, content_type="application/json")

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/policies/pet-permits/evaluate"
    assert "'pet-permits'" in response.json()["errors"]["policy"]
    followed = client.post(
        response["Location"], body, content_type="application/json"
    )  # what a client following the 308 sends
    assert followed.status_code == 200
    assert (followed.json()["policy"], followed.json()["verdict"]) == ("pet-permits", "yes")


def test_a_form_post_to_an_old_wizard_page_is_a_308(client, renamed):
    response = client.post("/pets/")

    assert response.status_code == 308
    assert response["Location"] == "/pet-permits/"


def test_each_slug_of_several_renames_leads_to_the_slug_now(client, renamed):
    services.policy_rename(policy=renamed.policy, slug="licences", by=None)

    assert client.get("/pets/versions/")["Location"] == "/licences/versions/"
    assert client.get("/pet-permits/versions/")["Location"] == "/licences/versions/"


def test_a_slug_never_renamed_is_still_a_404(client, renamed, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the lookup, and the old-slug lookup
        assert client.get("/nothing/").status_code == 404
    assert client.get("/api/v1/policies/nothing").status_code == 404


def test_a_404_of_the_policy_under_its_new_slug_is_not_redirected(client, renamed):
    response = client.get("/pet-permits/versions/2031-01-01/")

    assert response.status_code == 404


def test_the_loader_knows_a_policy_by_its_old_slug(renamed):
    out = io.StringIO()
    call_command("export_policy", "pet-permits", stdout=out)
    text = out.getvalue().replace("slug: pet-permits", "slug: pets")

    report = policy_load(document=parse_document(load_yaml(text)))

    assert list(Policy.objects.values_list("slug", flat=True)) == ["pet-permits"]
    assert report.skipped == ["2025-01-01"]


def test_load_if_absent_skips_a_policy_renamed_since(renamed, tmp_path):
    out = io.StringIO()
    call_command("export_policy", "pet-permits", stdout=out)
    seed = tmp_path / "pets.yaml"
    seed.write_text(out.getvalue().replace("slug: pet-permits", "slug: pets"))
    said = io.StringIO()

    call_command("load_policy", str(seed), "--if-absent", stdout=said)

    assert "already loaded" in said.getvalue()
    assert list(Policy.objects.values_list("slug", flat=True)) == ["pet-permits"]


def test_the_commands_name_the_slug_a_renamed_policy_has_now(renamed):
    stdout = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("evaluate", "pets", "--answers", '{"pet": "cat"}', stdout=stdout)
    assert exit_code.value.code == 2
    assert json.loads(stdout.getvalue()) == {
        "errors": {"policy": "Unknown policy 'pets': it was renamed to 'pet-permits'; use that."}
    }
    for command in ("export_policy", "check_policy", "check_sources"):
        with pytest.raises(CommandError, match="renamed to 'pet-permits'"):
            call_command(command, "pets", stdout=io.StringIO())
    with pytest.raises(CommandError, match=r"^Unknown policy 'nope'\.$"):
        call_command("check_sources", "nope", stdout=io.StringIO())
