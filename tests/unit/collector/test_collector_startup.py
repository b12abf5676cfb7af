"""The collector never opens its intake API without API keys unless told to."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from boucle_collector.app import create_app
from boucle_collector.settings import CollectorSettings

pytestmark = pytest.mark.unit


def test_refuses_to_start_without_integrations_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOUCLE_COLLECTOR_INTEGRATIONS_FILE", raising=False)
    monkeypatch.delenv("BOUCLE_COLLECTOR_ALLOW_UNAUTHENTICATED", raising=False)
    # No topic creation: the refusal must come before any connection is attempted.
    app = create_app(CollectorSettings(create_topics=False))

    with pytest.raises(RuntimeError, match="INTEGRATIONS_FILE is not set"), TestClient(app):
        pass
