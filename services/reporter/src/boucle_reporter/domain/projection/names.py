"""``names``: what a network calls its sites, programmes and people (boucle.referential.v1),
so that documents show names, not ids. Pure.

One document per kind and id; the latest event of an id wins (guarded by its evidence
sequence number, so a redelivered older name never comes back). Documents are read for the
whole network whatever the sites of a build: a person's name is no site's data.
"""

from __future__ import annotations

from boucle_contracts.referential.v1 import PersonNamedV1, ProgrammeNamedV1, SiteNamedV1
from boucle_reporter.domain.projection.write import Write, key, tenant

COLLECTION = "names"


def site_named(event: SiteNamedV1, seq: int) -> list[Write]:
    site = event.data
    return [
        Write(
            COLLECTION,
            key(event, "site", site.site_id),
            fields={**tenant(event), "kind": "site", "id": site.site_id, "name": site.name},
            newer_than=("seq", seq),
        )
    ]


def programme_named(event: ProgrammeNamedV1, seq: int) -> list[Write]:
    programme = event.data
    return [
        Write(
            COLLECTION,
            key(event, "programme", programme.programme_id),
            fields={
                **tenant(event),
                "kind": "programme",
                "id": programme.programme_id,
                "name": programme.name,
            },
            newer_than=("seq", seq),
        )
    ]


def person_named(event: PersonNamedV1, seq: int) -> list[Write]:
    person = event.data
    return [
        Write(
            COLLECTION,
            key(event, "person", person.person_id),
            fields={
                **tenant(event),
                "kind": "person",
                "id": person.person_id,
                "name": person.name,
                "role": person.role,
                "title": person.title,
                "person_site_id": person.site_id,
            },
            newer_than=("seq", seq),
        )
    ]
