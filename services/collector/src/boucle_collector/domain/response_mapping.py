"""A platform's response, parsed by its adapter, mapped onto the survey response contract.

Pure Python. Adapters turn each platform's payload into a :class:`PlatformResponse` (fields
with plain values: numbers, text, labels); the form's mapping then says what each field is.
Only what a mapping declares is published: a field no mapping covers is dropped and
counted (``dropped``), since an undeclared question may hold anything, a name included
("Nom": "Jean Dupont"). A declared answer whose value does not fit its mapping (a 7 on a
1-5 scale) is kept, redacted, in ``unmapped`` and counted, so that the mapping can be fixed.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from boucle_collector.domain.identifiers import looks_like_email
from boucle_collector.domain.integrations import (
    FieldRole,
    FormMapping,
    Integration,
    QuestionMapping,
)
from boucle_collector.domain.person_names import FreeTextRedactor, KnownPersons
from boucle_collector.domain.privacy import Pseudonymiser
from boucle_contracts.common import TrainingRef
from boucle_contracts.feedback.v1 import (
    ChoiceAnswer,
    Comment,
    NpsAnswer,
    ScaleAnswer,
    SurveyResponseSubmitted,
    TextAnswer,
    UnmappedAnswer,
)

Value = float | int | str | bool | tuple[str, ...] | None
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")
UNSAFE = re.compile(r"[^A-Za-z0-9._:@/+=-]+")
LONG_TEXT, SHORT_TEXT = 20_000, 500


class MappingError(ValueError):
    """The response cannot become an event as configured; the message names what is wrong."""


@dataclass(frozen=True, slots=True)
class RawField:
    question_id: str
    value: Value
    label: str | None = None
    aliases: tuple[str, ...] = ()  # other names of the question (e.g. Typeform's ref)


@dataclass(frozen=True, slots=True)
class PlatformResponse:
    platform: str
    form_id: str
    response_id: str
    submitted_at: datetime
    fields: tuple[RawField, ...]
    language: str | None = None


@dataclass(frozen=True, slots=True)
class MappedResponse:
    site_id: str
    data: SurveyResponseSubmitted
    unmapped: int = 0  # declared answers kept raw in data.unmapped (value off the mapping)
    dropped: int = 0  # answers no mapping declares: not published


def stable_id(*parts: str) -> str:
    """A contract Identifier from platform ids (or column names), the same for the same parts.

    Kept as is when they fit the pattern; else a readable ASCII slug with a hash of the
    original, so that two ids differing only in dropped characters stay distinct.
    """
    joined = ":".join(parts)
    if IDENTIFIER.match(joined):
        return joined
    ascii_text = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode()
    slug = UNSAFE.sub("-", ascii_text).strip("-.:@/+=")[:80] or "id"
    return f"{slug}-{hashlib.sha256(joined.encode()).hexdigest()[:16]}"


def _text(value: Value) -> str:
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Value, mapping: QuestionMapping) -> float | None:
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if isinstance(value, str) and value in mapping.choices:
        translated = mapping.choices[value]
        return float(translated) if isinstance(translated, int | float) else None
    if isinstance(value, bool) or value is None or isinstance(value, tuple):
        return None
    try:
        return float(value)
    except ValueError:
        return None


@dataclass
class _Builder:
    response: PlatformResponse
    form: FormMapping
    integration: Integration
    pseudonymiser: Pseudonymiser | None
    response_id: str  # the contract's: comment ids are made from it
    # The respondent's own name and e-mail, masked wherever they appear in the texts
    known: KnownPersons
    answers: list[ScaleAnswer | NpsAnswer | ChoiceAnswer | TextAnswer] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    unmapped: list[UnmappedAnswer] = field(default_factory=list)
    dropped: int = 0
    context: dict[FieldRole, str] = field(default_factory=dict)
    trainers: list[str] = field(default_factory=list)

    def redact(self, text: str) -> str:
        """Contacts, the respondent's own names and cued names masked (no model here: it
        runs once, in the publisher, off the event loop)."""
        return FreeTextRedactor(pseudonymiser=self.pseudonymiser)(text, self.known)

    def keep_raw(self, raw: RawField) -> None:
        self.unmapped.append(
            UnmappedAnswer(
                question_id=stable_id(self.response.platform, raw.question_id),
                raw_value=self.redact(_text(raw.value))[:LONG_TEXT],
            )
        )

    def answer(self, raw: RawField, mapping: QuestionMapping) -> None:
        common = {
            "question_id": stable_id(raw.question_id),
            "question_label": (mapping.label or raw.label or "")[:SHORT_TEXT] or None,
            "dimension": mapping.dimension,
        }
        try:
            if mapping.answer_type in ("scale", "nps"):
                number = _number(raw.value, mapping)
                if number is None:
                    raise ValueError("not a number")
                if mapping.answer_type == "nps":
                    self.answers.append(NpsAnswer(type="nps", value=int(number), **common))
                else:
                    self.answers.append(
                        ScaleAnswer(
                            type="scale",
                            value=number,
                            scale_min=mapping.scale_min,
                            scale_max=mapping.scale_max,
                            **common,
                        )
                    )
            elif mapping.answer_type == "choice":
                if isinstance(raw.value, tuple):
                    values = raw.value
                elif mapping.multiple:
                    values = tuple(_text(raw.value).split())
                else:
                    values = (_text(raw.value),)
                labels = tuple(str(mapping.choices.get(v, v))[:SHORT_TEXT] for v in values)
                self.answers.append(ChoiceAnswer(type="choice", value=labels, **common))
            else:
                text = self.redact(_text(raw.value))[:LONG_TEXT]
                self.answers.append(TextAnswer(type="text", value=text, **common))
        except (ValueError, ValidationError):
            self.keep_raw(raw)  # e.g. 7 on a 1-5 scale: kept verbatim, not dropped

    def add(self, raw: RawField, mapping: QuestionMapping) -> None:
        role = mapping.role
        if role is FieldRole.IGNORE:
            return
        if role is FieldRole.ANSWER:
            self.answer(raw, mapping)
        elif role is FieldRole.COMMENT:
            text = self.redact(_text(raw.value)).strip()[:LONG_TEXT]
            if text:
                # One id per comment of each response: the question id alone was the same
                # for every response to the form (consumers keep comments by id).
                comment_id = stable_id(self.response_id, raw.question_id)
                self.comments.append(
                    Comment(comment_id=comment_id, text=text, dimension=mapping.dimension)
                )
        elif role is FieldRole.TRAINER_ID:
            self.trainers.extend(raw.value if isinstance(raw.value, tuple) else (_text(raw.value),))
        else:
            self.context.setdefault(role, _text(raw.value).strip())

    def respondent_ref(self) -> str | None:
        if self.form.anonymous:
            return None
        for role in (
            FieldRole.RESPONDENT_ID,
            FieldRole.RESPONDENT_EMAIL,
            FieldRole.RESPONDENT_NAME,
        ):
            identity = self.context.get(role)
            if not identity:
                continue
            if self.integration.pseudonymise:
                return self.pseudonymiser.pseudonym(identity) if self.pseudonymiser else None
            # Configured not to pseudonymise: only a platform id may pass, never a name, and
            # never an address that a form put where its respondent id was expected. That
            # address is pseudonymised like a respondent_email when a secret is set (the
            # respondent stays recognisable, the address is not published), else dropped.
            if role is FieldRole.RESPONDENT_ID and looks_like_email(identity):
                return self.pseudonymiser.pseudonym(identity) if self.pseudonymiser else None
            if role is FieldRole.RESPONDENT_ID and IDENTIFIER.match(identity):
                return identity
        return None

    def identifier(self, role: FieldRole, default: str | None) -> str | None:
        value = self.context.get(role) or default
        if value is not None and not IDENTIFIER.match(value):
            raise MappingError(f"question mapped to {role} holds {value!r}, not an identifier")
        return value


def _mapping_for(raw: RawField, form: FormMapping) -> QuestionMapping | None:
    for name in (raw.question_id, *raw.aliases):
        if name in form.questions:
            return form.questions[name]
    return None


def _answered(value: Value) -> bool:
    return value is not None and value not in ("", ())


def known_persons(response: PlatformResponse, form: FormMapping) -> KnownPersons:
    """The respondent as the platform named them: fields mapped to their name or e-mail
    (Jotform's first and last names come joined), read before they are pseudonymised."""
    names: list[str] = []
    emails: list[str] = []
    for raw in response.fields:
        mapping = _mapping_for(raw, form)
        if mapping is None or not isinstance(raw.value, str):
            continue
        if mapping.role is FieldRole.RESPONDENT_NAME:
            names.append(raw.value)
        elif mapping.role is FieldRole.RESPONDENT_EMAIL or (
            mapping.role is FieldRole.RESPONDENT_ID and looks_like_email(raw.value)
        ):
            emails.append(raw.value)
    return KnownPersons.from_fields(names=names, emails=emails)


def map_response(
    response: PlatformResponse,
    *,
    integration: Integration,
    pseudonymiser: Pseudonymiser | None,
) -> MappedResponse:
    """The contract's survey response for ``response``, or MappingError saying why not."""
    form = integration.forms.get(response.form_id)
    if form is None:
        raise MappingError(
            f"form {response.form_id!r} is not mapped in integration {integration.id}; "
            f"mapped forms: {', '.join(sorted(integration.forms)) or 'none'}"
        )
    response_id = stable_id(response.platform, response.form_id, response.response_id)
    builder = _Builder(
        response,
        form,
        integration,
        pseudonymiser,
        response_id=response_id,
        known=known_persons(response, form),
    )
    for raw in response.fields:
        if not _answered(raw.value):
            continue
        mapping = _mapping_for(raw, form)
        if mapping is None:
            builder.dropped += 1  # undeclared: may hold a name; never published
        else:
            builder.add(raw, mapping)
    site_id = builder.identifier(FieldRole.SITE_ID, form.site_id)
    if site_id is None:
        raise MappingError(f"form {response.form_id}: the response names no site")
    if not integration.allows_site(site_id):
        raise MappingError(f"site {site_id} is not among the sites of integration {integration.id}")
    if not builder.answers:
        raise MappingError(
            f"form {response.form_id}: no answer of this response is mapped "
            f"({builder.dropped} answer(s) of questions no mapping declares); "
            "a survey response needs one"
        )
    try:
        data = SurveyResponseSubmitted(
            response_id=response_id,
            survey_id=stable_id(response.platform, response.form_id),
            survey_kind=form.survey_kind,
            respondent_role=form.respondent_role,
            respondent_ref=builder.respondent_ref(),
            anonymous=form.anonymous,
            company_id=builder.identifier(FieldRole.COMPANY_ID, None),
            submitted_at=response.submitted_at,
            channel=response.platform,
            language=form.language,
            training=TrainingRef(
                programme_id=builder.identifier(FieldRole.PROGRAMME_ID, form.programme_id),
                session_id=builder.identifier(FieldRole.SESSION_ID, form.session_id),
                trainer_ids=tuple(t for t in builder.trainers if IDENTIFIER.match(t)),
            ),
            answers=tuple(builder.answers),
            comments=tuple(builder.comments),
            unmapped=tuple(builder.unmapped),
        )
    except ValidationError as exc:
        raise MappingError(f"form {response.form_id}: {exc.errors()[0]['msg']}") from exc
    return MappedResponse(
        site_id=site_id, data=data, unmapped=len(builder.unmapped), dropped=builder.dropped
    )
