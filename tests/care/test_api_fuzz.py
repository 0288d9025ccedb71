"""The care API under schemathesis (valid and invalid inputs): never a 5xx, every 4xx is
problem+json. Narrower and denser than tests/web/test_openapi.py, which covers every room."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import bearer, make_org, make_token
from tests.care.care_helpers import add_mention, take

EXAMPLES_PER_OPERATION = 6


def _care_operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        if result.ok().path.startswith("/api/v1/care/"):
            found.append(result.ok())
    return found


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error(
    app: FastAPI, db: Database, settings: Settings, mode: GenerationMode
) -> None:
    owner = make_org(db)
    headers = bearer(make_token(db, owner))
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    take(db, settings, add_mention(db, owner.actor.organization_id, created_at=now), now)
    operations = _care_operations(app)
    assert len(operations) >= 20

    @examples(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        response = case.call(headers=headers)
        where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
        assert response.status_code < 500, where
        if 400 <= response.status_code < 500:
            assert response.headers.get("content-type") == ["application/problem+json"], where

    check()
