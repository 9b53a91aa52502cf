"""People see the policy's title and summary of the version in effect; a page about one
version (its history page, a result pinned to it) shows that version's own."""

import datetime as dt

import pytest

from policies import services
from policies.models import PolicyVersion
from tests.factories import small_policy

from .conftest import answer_all, save_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def retitled():
    """The first version saved a result; a second one, in effect now, renames the policy."""
    first = small_policy()
    draft = services.version_copy(version=first, by=None)
    PolicyVersion.objects.filter(pk=draft.pk).update(
        title="Pet permit", summary="Which pets need a permit?"
    )
    return first, draft


def publish_second(draft):
    services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="A new name."
    )


def test_the_start_pages_show_the_version_in_effect(client, retitled):
    _, draft = retitled
    assert "Pet licence" in client.get("/").content.decode()

    publish_second(draft)

    listing = client.get("/").content.decode()
    start = client.get("/pets/").content.decode()
    assert "Pet permit" in listing and "Pet licence" not in listing
    assert "Pet permit" in start and "Which pets need a permit?" in start


def test_a_versions_history_page_shows_its_own_title(client, retitled):
    _, draft = retitled
    publish_second(draft)

    old = client.get("/pets/versions/2025-01-01/").content.decode()
    new = client.get("/pets/versions/2025-06-01/").content.decode()

    assert "Pet licence" in old and "Pet permit" not in old.split("<main", 1)[-1]
    assert "Pet permit" in new


def test_a_saved_result_keeps_the_title_of_its_version(client, retitled):
    _, draft = retitled
    answer_all(client, pet="cat")
    saved = save_result(client)
    url = saved.wsgi_request.path

    publish_second(draft)

    page = client.get(url).content.decode()
    assert "Pet licence" in page
