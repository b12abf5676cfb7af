"""Actions settings, from ``BOUCLE_ACTIONS_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from boucle_runtime.settings import MongoSettings, ServiceSettings


class ActionsSettings(ServiceSettings, MongoSettings):
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
