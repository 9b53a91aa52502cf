"""GET /healthz: a liveness probe that never touches the database."""

import pytest


@pytest.mark.django_db
def test_it_answers_ok_without_a_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_it_works_without_database_access(client):
    # No django_db mark: pytest-django fails any test that touches the database.
    response = client.get("/healthz")

    assert response.status_code == 200
