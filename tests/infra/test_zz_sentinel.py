"""The last infra test: staging and production are exactly as the session found them (sentinel file in
each prefix, sentinel row in each running database, operators' vault files byte-identical). The
`sentinel` fixture checks the same again after the session's own teardown. A prefix that did not exist
must still not exist."""
from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.infra]


def test_staging_and_production_are_untouched(sentinel: dict[str, Any], tools: Any) -> None:
    # each real environment is watched: its prefix holds a sentinel file, or it is absent and must stay so
    assert set(sentinel["files"]) | set(sentinel["absent"]) == {"staging", "production"}
    assert tools.sentinel_problems(sentinel) == []
