"""Personal survey links: the form's address with hidden fields filled in, so that the
response maps itself to its site, session, programme and, unless the survey is
anonymous, its solicitation and respondent.

Survey platforms read hidden fields from different parts of the address: Typeform from
the fragment (``#site=…``), the others from the query string. An anonymous survey's link
carries nothing that points at the person: only where the training took place.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from boucle_surveys.domain.solicitation import Solicitation

FRAGMENT_PLATFORMS = frozenset({"typeform"})


def hidden_fields(solicitation: Solicitation) -> dict[str, str]:
    training = solicitation.training
    fields = {
        "site": solicitation.site_id,
        "session": training.session_id,
        "programme": training.programme_id,
        "survey_kind": str(solicitation.survey_kind),
        "role": str(solicitation.respondent_role),
    }
    if not solicitation.anonymous:
        fields["respondent"] = solicitation.respondent_ref
        fields["solicitation"] = solicitation.solicitation_id
    return {key: value for key, value in fields.items() if value}


def personal_link(form_url: str, platform: str, solicitation: Solicitation) -> str:
    parts = urlsplit(form_url)
    fields = hidden_fields(solicitation)
    if platform in FRAGMENT_PLATFORMS:
        fragment = urlencode([*parse_qsl(parts.fragment), *fields.items()])
        return urlunsplit(parts._replace(fragment=fragment))
    query = urlencode([*parse_qsl(parts.query), *fields.items()])
    return urlunsplit(parts._replace(query=query))
