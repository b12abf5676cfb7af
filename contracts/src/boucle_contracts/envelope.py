"""The event envelope: CloudEvents 1.0 attributes plus Boucle's tenancy and tracing.

Every event on Boucle's topics is one JSON document in CloudEvents *structured* mode
(see contracts/README.md for why). Extension attribute names follow the CloudEvents rule
(lower-case ASCII letters and digits only): ``networkid``, ``siteid``, ``correlationid``,
``causationid``. Python code reads them as ``network_id`` and so on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from boucle_contracts.common import ContractModel, Identifier, Timestamp

DataT = TypeVar("DataT", bound=ContractModel)

SPEC_VERSION: Final = "1.0"
DATA_CONTENT_TYPE: Final = "application/json"


class Envelope(BaseModel, Generic[DataT]):
    """Base of every concrete event class (one subclass per event type and major version)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    # Set by each concrete event class.
    EVENT_TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    DATA_SCHEMA: ClassVar[str]

    specversion: Literal["1.0"]
    id: Identifier = Field(
        description="Unique per event; redeliveries keep it, so consumers deduplicate on it."
    )
    source: str = Field(
        min_length=1,
        max_length=256,
        description="URI-reference of the producer, e.g. /collector/webhooks/typeform.",
    )
    type: str
    time: Timestamp = Field(description="When the fact happened or was recorded by the producer.")
    subject: str | None = Field(
        default=None,
        max_length=256,
        description="What the event is about within the site, e.g. complaint/C-42.",
    )
    datacontenttype: Literal["application/json"] = DATA_CONTENT_TYPE
    dataschema: str
    network_id: Identifier = Field(alias="networkid", description="Tenant: the training network.")
    site_id: Identifier | None = Field(
        default=None,
        alias="siteid",
        description="Site (agence) within the network; absent for network-wide events.",
    )
    correlation_id: Identifier | None = Field(
        default=None,
        alias="correlationid",
        description="Shared by every event of one business flow.",
    )
    causation_id: Identifier | None = Field(
        default=None, alias="causationid", description="Id of the event that caused this one."
    )
    data: DataT

    @classmethod
    def create(
        cls,
        *,
        data: DataT,
        network_id: str,
        source: str,
        site_id: str | None = None,
        event_id: str | None = None,
        time: datetime | None = None,
        subject: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Self:
        """Build an event with its class's type, schema and defaults filled in."""
        new_id = event_id or str(uuid.uuid4())
        return cls(
            specversion=SPEC_VERSION,
            id=new_id,
            source=source,
            type=cls.EVENT_TYPE,
            time=time or datetime.now(UTC),
            subject=subject,
            dataschema=cls.DATA_SCHEMA,
            network_id=network_id,
            site_id=site_id,
            correlation_id=correlation_id or new_id,
            causation_id=causation_id,
            data=data,
        )

    def caused(self) -> dict[str, Any]:
        """Tracing arguments for an event produced in reaction to this one."""
        return {
            "network_id": self.network_id,
            "site_id": self.site_id,
            "correlation_id": self.correlation_id or self.id,
            "causation_id": self.id,
        }

    @property
    def partition_key(self) -> bytes:
        """Kafka key: the site, so that one site's events stay in order (network if none)."""
        key = f"{self.network_id}/{self.site_id}" if self.site_id else self.network_id
        return key.encode()

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True, exclude_none=True).encode()


def event_type(family: str, name: str, major: int) -> str:
    """CloudEvents ``type`` of an event: ``fr.boucle.<family>.<name>.v<major>``."""
    return f"fr.boucle.{family}.{name}.v{major}"


def data_schema(family: str, name: str, major: int) -> str:
    """``dataschema`` URI, naming the schema file committed under contracts/schemas/."""
    return f"urn:boucle:schema:{family}:v{major}:{name}"
