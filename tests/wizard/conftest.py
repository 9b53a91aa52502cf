"""Walking the wizard as a browser does: start, answer, save."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


def answer_all(client: Client, slug: str = "pets", **answers: str) -> None:
    client.post(reverse("wizard:policy_start", args=[slug]))
    for key, value in answers.items():
        client.post(reverse("wizard:question", args=[slug, key]), {key: value})


def save_result(client: Client, slug: str = "pets", **options: str):
    """Finish the wizard (the answers must be complete) and return the saved page's response."""
    response = client.post(reverse("wizard:result", args=[slug]), options)
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"])


@pytest.fixture
def walk():
    return answer_all
