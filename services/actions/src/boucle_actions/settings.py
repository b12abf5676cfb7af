"""Actions settings, from ``BOUCLE_ACTIONS_*`` environment variables, and the deadline file
they may point at."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from boucle_actions.domain.cases import DeadlinePolicy, Deadlines, deadlines_of
from boucle_contracts.metrics.v1 import Granularity
from boucle_runtime.auth import AuthSettings
from boucle_runtime.settings import MongoSettings, ServiceSettings


class ActionsSettings(ServiceSettings, MongoSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="BOUCLE_ACTIONS_", env_file=".env", extra="ignore")

    http_port: int = Field(default=8083, ge=0, le=65535)
    mongodb_database: str = "boucle_actions"
    consumer_group: str = "boucle-actions"
    acknowledge_within_hours: int = Field(
        default=48, gt=0, description="Default deadline to acknowledge a complaint."
    )
    answer_within_days: int = Field(
        default=15, gt=0, description="Default deadline to answer a complaint."
    )
    deadlines_file: Path | None = Field(
        default=None,
        description=(
            "JSON file of per-network deadlines: "
            '{"<network_id>": {"acknowledge_within_hours": 24, "answer_within_days": 10}}. '
            "Overrides set through the API win over it."
        ),
    )
    sweep_interval_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often overdue cases, due evaluations, outboxes and gauges are checked.",
    )
    evaluation_window_days: int = Field(
        default=28, gt=0, description="Window compared before and after an action, in days."
    )
    evaluation_granularity: Granularity = Field(
        default=Granularity.WEEK, description="Analyzer periods summed over each window."
    )
    evaluation_min_sample_size: int = Field(
        default=30, ge=2, description="Fewer answers on either side is inconclusive."
    )
    evaluation_alpha: float = Field(
        default=0.05, gt=0, lt=1, description="Significance level of the improvement test."
    )
    evaluation_sweep: bool = Field(
        default=True,
        description=(
            "The sweep evaluates done actions once their window has passed (in data time); "
            "off: only POST .../evaluation does (a demo whose people evaluate)."
        ),
    )
    draft_per_problem: bool = Field(
        default=True,
        description=(
            "Draft one action per problem (boucle.problems.v1); off: one per degradation "
            "(boucle.signals.v1), as before problems existed."
        ),
    )
    retention_complaints_days: int | None = Field(
        default=1825,
        ge=1,
        description="Days after a case is closed before its texts (summary, notes, answer, "
        "root cause) are blanked; dates, status and category stay (empty: forever).",
    )
    retention_interval_seconds: float = Field(
        default=86_400.0, gt=0, description="How often the retention period is applied."
    )

    @field_validator("retention_complaints_days", mode="before")
    @classmethod
    def _empty_is_forever(cls, value: object) -> object:
        """An empty variable means no retention period (kept forever)."""
        return None if isinstance(value, str) and not value.strip() else value


def deadline_policy(default: Deadlines, path: Path | None) -> DeadlinePolicy:
    """The default deadlines, with the per-network ones of the configuration file if any."""
    if path is None:
        return DeadlinePolicy(default)
    raw = json.loads(path.read_text(encoding="utf-8"))
    return DeadlinePolicy(
        default,
        {
            network: deadlines_of(values["acknowledge_within_hours"], values["answer_within_days"])
            for network, values in raw.items()
        },
    )
