from typing import Any

import pytest

from suppliers.taxonomy import taxonomy_load


@pytest.fixture(autouse=True)
def taxonomy(db: Any) -> None:
    """The shipped taxonomy, loaded as `make run` loads it."""
    taxonomy_load()
