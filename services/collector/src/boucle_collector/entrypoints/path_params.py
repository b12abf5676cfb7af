"""Ids taken from the URL path, validated the same way by every route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"
NetworkId = Annotated[str, Path(pattern=ID_PATTERN, description="Training network (tenant).")]
SiteId = Annotated[str, Path(pattern=ID_PATTERN, description="Site of the network.")]
