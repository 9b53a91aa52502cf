"""The seed format carries a version's own title and summary where they differ from the
policy's; export -> load -> export keeps them; a malformed one is refused naming the version."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from policies import catalog, services
from policies.loading import SeedError, load_yaml, parse_document, policy_load
from policies.models import PolicyVersion
from tests.factories import small_policy

pytestmark = pytest.mark.django_db


def exported(slug="pets"):
    out = io.StringIO()
    call_command("export_policy", slug, stdout=out)
    return out.getvalue()


@pytest.fixture
def two_titles():
    first = small_policy()
    draft = services.version_copy(version=first, by=None)
    PolicyVersion.objects.filter(pk=draft.pk).update(title="Pet permit", summary="")
    services.version_publish(
        version=draft, by=None, effective_date=dt.date(2025, 6, 1), notes="Renamed."
    )
    return first


def test_export_writes_a_versions_own_title_and_summary_only_where_they_differ(two_titles):
    document = load_yaml(exported())

    assert document["policy"]["title"] == "Pet permit"  # the newest published version's
    first, second = document["versions"]
    assert (first.get("title"), first.get("summary")) == ("Pet licence", "May you keep this pet?")
    assert "title" not in second and "summary" not in second


def test_export_load_export_is_lossless_with_titles_per_version(two_titles):
    text = exported()

    policy_load(document=parse_document(load_yaml(text)), replace=True)

    assert exported() == text
    titles = {v.version_id: (v.policy.title, v.policy.summary) for v in catalog.versions("pets")}
    assert titles == {
        "2025-01-01": ("Pet licence", "May you keep this pet?"),
        "2025-06-01": ("Pet permit", ""),
    }


def test_an_empty_summary_of_its_own_is_kept():
    first = small_policy()
    draft = services.version_copy(version=first, by=None)
    PolicyVersion.objects.filter(pk=draft.pk).update(summary="")
    services.version_publish(
        version=draft, by=None, effective_date=dt.date(2024, 6, 1), notes="Older, no summary."
    )
    text = exported()
    assert "summary: ''" in text

    policy_load(document=parse_document(load_yaml(text)), replace=True)

    assert catalog.version_by_id("pets", "2024-06-01").policy.summary == ""
    assert exported() == text


def test_a_versions_empty_title_is_refused_naming_the_version():
    small_policy()
    text = exported().replace("- id: 2025-01-01", "- id: 2025-01-01\n  title: ''", 1)

    with pytest.raises(SeedError, match=r"versions\[0\].*title, when given, cannot be empty"):
        parse_document(load_yaml(text))
