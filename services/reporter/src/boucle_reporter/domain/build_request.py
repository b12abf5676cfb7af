"""What a build asks for: a scope of sites, a period and a language. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

LANGUAGES = ("fr", "en")


@dataclass(frozen=True, slots=True)
class BuildRequest:
    """A scope (the network, or a list of sites such as an auditor's sample) and a period."""

    network_id: str
    start: date
    end: date  # exclusive
    sites: tuple[str, ...] = ()
    language: str = "fr"

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("the period's end must be after its start")
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")

    def covers_site(self, site_id: str | None) -> bool:
        return not self.sites or site_id in self.sites

    def covers(self, moment: datetime | date | None) -> bool:
        if moment is None:
            return False
        day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
        return self.start <= day < self.end

    @property
    def months(self) -> list[str]:
        months, year, month = [], self.start.year, self.start.month
        while date(year, month, 1) < self.end:
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months

    @property
    def last_day(self) -> date:
        """The period's last day (``end`` is exclusive): how documents and file names say it."""
        return date.fromordinal(self.end.toordinal() - 1)
