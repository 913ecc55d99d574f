"""The last infra test: staging and production are exactly as the session found them (the sentinel's
read-only fingerprint: prefix, configuration and release digests, supervisord pid, cluster roles,
databases and tables; operators' vault files byte-identical). The `sentinel` fixture checks the same
again after the session's own teardown. A prefix that did not exist must still not exist.
The fingerprint itself is tested in test_infra_sentinel_fingerprint.py (before the teardown tests)."""
from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.infra]


def test_staging_and_production_are_untouched(sentinel: dict[str, Any], tools: Any) -> None:
    assert set(sentinel["envs"]) == {"staging", "production"}
    assert tools.sentinel_problems(sentinel) == []
