"""The analyzer's query API over in-memory stores, behind the runtime's token verification."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from boucle_analyzer.adapters.memory import (
    InMemoryAggregateStore,
    InMemoryCommentStore,
    InMemoryDegradationStore,
    InMemoryFigureReader,
)
from boucle_analyzer.adapters.taxonomy_files import load_catalog
from boucle_analyzer.api import query_router
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.themes import Classifier
from boucle_analyzer.handlers import InputHandler
from boucle_analyzer.metrics import AnalyzerMetrics
from boucle_contracts.examples import example_of
from boucle_contracts.feedback.v1 import SurveyResponseSubmittedV1
from boucle_runtime.auth import (
    AuthSettings,
    TokenVerifier,
    install_access_errors,
    principal_dependency,
)
from tools.localstack import LocalIssuer

ISSUER = LocalIssuer()
EXAMPLE = example_of(SurveyResponseSubmittedV1)
assert EXAMPLE.site_id is not None
NETWORK, SITE = EXAMPLE.network_id, EXAMPLE.site_id


def bearer(network_id: str, role: str = "quality_lead", **claims: object) -> dict[str, str]:
    """Minted when a test runs, never at import: a long suite would outlive its expiry."""
    token = ISSUER.token(network_id=network_id, role=role, subject=f"usr-{role}", **claims)
    return {"authorization": f"Bearer {token}"}


class Api:
    def __init__(self, *, network_id: str | None = None, keyed: bool = True) -> None:
        """``network_id``: the network of the quality lead whose token ``http`` sends (the
        example's); ``keyed``: whether a key to verify tokens with is configured."""
        self.store = InMemoryAggregateStore()
        self.comments = InMemoryCommentStore()
        self.degradations = InMemoryDegradationStore()
        self.handler = InputHandler(
            store=self.store,
            comments=self.comments,
            classifier=Classifier(PlainAnalyser(), load_catalog(None, None)),
            metrics=AnalyzerMetrics(CollectorRegistry()),
        )
        settings = AuthSettings(
            auth_issuer=ISSUER.issuer,
            auth_audience=ISSUER.audience,
            auth_jwks_url=None,
            auth_public_key=ISSUER.public_pem if keyed else None,
        )
        app = FastAPI()
        app.include_router(
            query_router(
                figures=InMemoryFigureReader(self.store),
                degradations=self.degradations,
                comments=self.comments,
                principal=principal_dependency(TokenVerifier(settings)),
            )
        )
        install_access_errors(app)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers=bearer(network_id or NETWORK),
        )
