from typing import Any

import pytest

from tests.conftest import taxonomy_load_fast


@pytest.fixture(autouse=True)
def taxonomy(db: Any) -> None:
    """The shipped taxonomy, as `make run` loads it (tests/conftest.py)."""
    taxonomy_load_fast()
