import pytest

from policies import catalog
from policies.loading import policy_load, read_document, seed_files


@pytest.fixture(autouse=True)
def _fresh_compiled_cache():
    # Primary keys are reused across test transactions, so a cached version (or a page or
    # response rendered for one) could leak.
    from django.core.cache import caches

    catalog.clear_cache()
    caches["rendered"].clear()
    yield
    catalog.clear_cache()


@pytest.fixture
def seeded(db):
    """Every seeded policy, loaded as `make run` loads it."""
    for path in seed_files():
        policy_load(document=read_document(path))


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Rate-limit counters live in the cache; each test starts with none used.
    from django.core.cache import cache

    cache.clear()
    yield
