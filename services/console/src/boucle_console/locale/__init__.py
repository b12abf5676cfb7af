"""The console's words, French first and English available, and dates and durations by Babel.

Statuses, sources and roles are always shown by name, never by their code.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from babel.dates import format_date, format_datetime, format_timedelta, get_timezone
from babel.units import format_unit

Locale = Literal["fr", "en"]
LOCALES: tuple[Locale, ...] = ("fr", "en")
TIMEZONE = "Europe/Paris"

_FR: dict[str, str] = {
    "app": "Console Boucle",
    "skip": "Aller au contenu",
    "nav.inbox": "Boîte de réception",
    "nav.actions": "Actions d'amélioration",
    "nav.logout": "Se déconnecter",
    "nav.language": "English",
    "login.title": "Connexion",
    "login.text": "Connectez-vous avec le compte de votre réseau pour traiter les réclamations, "
    "aléas et difficultés, et suivre les actions d'amélioration.",
    "login.button": "Se connecter",
    "login.unconfigured": "Aucun fournisseur d'identité n'est configuré : la connexion est "
    "impossible pour le moment.",
    "inbox.title": "Boîte de réception",
    "inbox.intro": "Réclamations, aléas et difficultés de vos sites, l'échéance la plus proche "
    "en premier.",
    "inbox.to_acknowledge": "À prendre en compte",
    "inbox.to_answer": "À analyser et répondre",
    "inbox.answered": "Répondues",
    "inbox.empty": "Aucun élément dans cette liste.",
    "inbox.deadlines": "Délais du réseau : prise en compte sous {ack}, réponse sous {answer}.",
    "col.item": "Objet",
    "col.kind": "Nature",
    "col.site": "Site",
    "col.received": "Reçue le",
    "col.deadline": "Échéance",
    "col.status": "Statut",
    "col.title": "Action",
    "col.owner": "Responsable",
    "col.due": "Échéance",
    "deadline.left": "reste {delta}",
    "deadline.late": "en retard de {delta}",
    "deadline.ack": "Prise en compte",
    "deadline.answer": "Réponse",
    "case.title": "{kind} : {summary}",
    "case.details": "Détails",
    "case.category": "Catégorie",
    "case.none": "non renseignée",
    "case.root_cause": "Cause racine",
    "case.answer": "Réponse apportée",
    "case.history": "Historique",
    "case.acknowledge": "Prendre en compte",
    "case.acknowledge.note": "Message de prise en compte (facultatif)",
    "case.acknowledge.button": "Accuser réception",
    "case.answer.form": "Analyser et répondre",
    "case.answer.template": "Modèle de réponse",
    "case.answer.button": "Enregistrer la réponse",
    "case.root_cause.help": "Ce qui a causé la situation, pas ses symptômes.",
    "case.answer.help": "Le texte transmis à la personne qui s'est exprimée.",
    "case.root_cause.button": "Enregistrer la cause seulement",
    "case.root_cause.only": "Cause racine, à enregistrer sans répondre encore",
    "case.done": "Cette situation est traitée : aucune action n'est attendue.",
    "case.readonly": "Consultation seule : votre rôle ne permet pas de modifier.",
    "actions.title": "Actions d'amélioration",
    "actions.intro": "Les plans du réseau et leur statut ; ceux qui attendent une validation "
    "en premier.",
    "actions.empty": "Aucune action.",
    "action.problem": "Problème",
    "action.objective": "Objectif",
    "action.measures": "Mesures",
    "action.validation": "Validation par la direction",
    "action.validated_by": "Validée par {who}",
    "action.validate": "Valider le plan",
    "action.send_back": "Renvoyer pour reprise",
    "action.comment": "Commentaire",
    "action.comment.help": "Obligatoire pour un renvoi : ce qui est à reprendre.",
    "action.missing": "Avant validation, il manque : {fields}.",
    "action.comments": "Commentaires",
    "field.owner": "un responsable",
    "field.due_date": "une échéance",
    "field.measures": "des mesures",
    "error.title": "Erreur",
    "error.403": "Vous n'avez pas accès à cette page ou à cette action.",
    "error.404": "Cette page n'existe pas, ou plus.",
    "error.409": "Quelqu'un a modifié cet élément entre-temps, ou l'étape demandée n'est pas "
    "possible : {detail}",
    "error.csrf": "Le formulaire a expiré. Rechargez la page et recommencez.",
    "error.upstream": "Le service est indisponible pour le moment. Réessayez dans un instant.",
    "error.invalid": "Le formulaire est incomplet : {detail}",
    "error.back": "Revenir à la boîte de réception",
    "error.signin": "La connexion a échoué : votre compte n'a pas de rôle, de réseau ou de "
    "sites reconnus par Boucle, ou la réponse du fournisseur d'identité est invalide "
    "({detail}).",
    "flash.acknowledged": "Prise en compte enregistrée.",
    "flash.answered": "Réponse enregistrée : l'élément a quitté la liste à traiter.",
    "flash.analysed": "Cause racine enregistrée.",
    "flash.validated": "Plan validé.",
    "flash.sent_back": "Plan renvoyé pour reprise.",
    "role.quality_lead": "Responsable qualité du réseau",
    "role.site_manager": "Responsable de site",
    "role.auditor": "Auditeur (lecture seule)",
    "role.integration": "Intégration",
    "source.complaint": "Réclamation",
    "source.hazard": "Aléa",
    "source.difficulty": "Difficulté",
    "status.received": "Reçue",
    "status.acknowledged": "Prise en compte",
    "status.analysed": "Analysée",
    "status.answered": "Répondue",
    "status.closed": "Close",
    "status.escalated": "Remontée à la direction",
    "status.in_mediation": "En médiation",
    "astatus.draft": "Brouillon",
    "astatus.proposed": "À valider",
    "astatus.validated": "Validée",
    "astatus.in_progress": "En cours",
    "astatus.done": "Réalisée",
    "astatus.effective": "Efficace",
    "astatus.not_effective": "Non efficace",
    "astatus.reopened": "Rouverte",
    "astatus.cancelled": "Annulée",
    "site.network": "Tout le réseau",
    "template.complaint": "Bonjour,\n\nNous avons bien pris en compte votre réclamation et "
    "vous remercions de nous l'avoir signalée. Après analyse, voici ce que nous avons "
    "décidé : …\n\nNous restons à votre disposition.",
    "template.hazard": "Bonjour,\n\nL'aléa signalé a été analysé. Voici les mesures prises "
    "pour la suite de la formation : …",
    "template.difficulty": "Bonjour,\n\nMerci d'avoir signalé cette difficulté. Voici "
    "l'accompagnement que nous vous proposons : …",
}

_EN: dict[str, str] = {
    "app": "Boucle console",
    "skip": "Skip to content",
    "nav.inbox": "Inbox",
    "nav.actions": "Improvement actions",
    "nav.logout": "Sign out",
    "nav.language": "Français",
    "login.title": "Sign in",
    "login.text": "Sign in with your network's account to handle complaints, hazards and "
    "difficulties, and follow improvement actions.",
    "login.button": "Sign in",
    "login.unconfigured": "No identity provider is configured: signing in is not possible yet.",
    "inbox.title": "Inbox",
    "inbox.intro": "Complaints, hazards and difficulties of your sites, nearest deadline first.",
    "inbox.to_acknowledge": "To acknowledge",
    "inbox.to_answer": "To analyse and answer",
    "inbox.answered": "Answered",
    "inbox.empty": "Nothing in this list.",
    "inbox.deadlines": "Network deadlines: acknowledge within {ack}, answer within {answer}.",
    "col.item": "Subject",
    "col.kind": "Kind",
    "col.site": "Site",
    "col.received": "Received",
    "col.deadline": "Deadline",
    "col.status": "Status",
    "col.title": "Action",
    "col.owner": "Owner",
    "col.due": "Due",
    "deadline.left": "{delta} left",
    "deadline.late": "{delta} late",
    "deadline.ack": "Acknowledge",
    "deadline.answer": "Answer",
    "case.title": "{kind}: {summary}",
    "case.details": "Details",
    "case.category": "Category",
    "case.none": "not given",
    "case.root_cause": "Root cause",
    "case.answer": "Answer given",
    "case.history": "History",
    "case.acknowledge": "Acknowledge",
    "case.acknowledge.note": "Acknowledgement message (optional)",
    "case.acknowledge.button": "Acknowledge receipt",
    "case.answer.form": "Analyse and answer",
    "case.answer.template": "Answer template",
    "case.answer.button": "Save the answer",
    "case.root_cause.help": "What caused the situation, not its symptoms.",
    "case.answer.help": "The text sent to the person who spoke up.",
    "case.root_cause.button": "Save the root cause only",
    "case.root_cause.only": "Root cause, to save without answering yet",
    "case.done": "This item is handled: nothing more is expected.",
    "case.readonly": "Read-only: your role cannot change anything.",
    "actions.title": "Improvement actions",
    "actions.intro": "The network's plans and their status; those awaiting validation first.",
    "actions.empty": "No action.",
    "action.problem": "Problem",
    "action.objective": "Objective",
    "action.measures": "Measures",
    "action.validation": "Validation by the direction",
    "action.validated_by": "Validated by {who}",
    "action.validate": "Validate the plan",
    "action.send_back": "Send back for rework",
    "action.comment": "Comment",
    "action.comment.help": "Required to send back: what is to be reworked.",
    "action.missing": "Before validation, missing: {fields}.",
    "action.comments": "Comments",
    "field.owner": "an owner",
    "field.due_date": "a due date",
    "field.measures": "measures",
    "error.title": "Error",
    "error.403": "You do not have access to this page or action.",
    "error.404": "This page does not exist, or no longer.",
    "error.409": "Someone changed this item meanwhile, or the step is not possible: {detail}",
    "error.csrf": "The form expired. Reload the page and try again.",
    "error.upstream": "The service is unavailable right now. Try again in a moment.",
    "error.invalid": "The form is incomplete: {detail}",
    "error.back": "Back to the inbox",
    "error.signin": "Signing in failed: your account has no role, network or sites Boucle "
    "knows, or the identity provider's answer is invalid ({detail}).",
    "flash.acknowledged": "Acknowledgement saved.",
    "flash.answered": "Answer saved: the item left the list to handle.",
    "flash.analysed": "Root cause saved.",
    "flash.validated": "Plan validated.",
    "flash.sent_back": "Plan sent back for rework.",
    "role.quality_lead": "Network quality lead",
    "role.site_manager": "Site manager",
    "role.auditor": "Auditor (read-only)",
    "role.integration": "Integration",
    "source.complaint": "Complaint",
    "source.hazard": "Hazard",
    "source.difficulty": "Difficulty",
    "status.received": "Received",
    "status.acknowledged": "Acknowledged",
    "status.analysed": "Analysed",
    "status.answered": "Answered",
    "status.closed": "Closed",
    "status.escalated": "Escalated",
    "status.in_mediation": "In mediation",
    "astatus.draft": "Draft",
    "astatus.proposed": "Awaiting validation",
    "astatus.validated": "Validated",
    "astatus.in_progress": "In progress",
    "astatus.done": "Done",
    "astatus.effective": "Effective",
    "astatus.not_effective": "Not effective",
    "astatus.reopened": "Reopened",
    "astatus.cancelled": "Cancelled",
    "site.network": "Whole network",
    "template.complaint": "Hello,\n\nWe have received your complaint and thank you for "
    "raising it. After analysis, here is what we decided: …\n\nKind regards.",
    "template.hazard": "Hello,\n\nThe hazard reported was analysed. Here are the measures "
    "taken for the rest of the course: …",
    "template.difficulty": "Hello,\n\nThank you for raising this difficulty. Here is the "
    "support we offer: …",
}
CATALOGS: dict[Locale, dict[str, str]] = {"fr": _FR, "en": _EN}


def pick_locale(chosen: str | None, accept_language: str | None, default: Locale) -> Locale:
    """The person's choice (cookie), else the browser's first known language, else the default."""
    if chosen in LOCALES:
        return "en" if chosen == "en" else "fr"
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return "en" if tag == "en" else "fr"
    return default


def translator(locale: Locale) -> Callable[..., str]:
    catalog = CATALOGS[locale]

    def translate(key: str, **values: object) -> str:
        text = catalog.get(key) or _FR.get(key) or key
        return text.format(**values) if values else text

    return translate


def when(moment: datetime, locale: Locale) -> str:
    return format_datetime(moment, "d MMM y HH:mm", tzinfo=get_timezone(TIMEZONE), locale=locale)


def day(moment: object, locale: Locale) -> str:
    return format_date(moment, "long", locale=locale)  # type: ignore[arg-type]


def duration(delta: timedelta, locale: Locale) -> str:
    """A rounded duration, sign dropped: « 45 heures » below two days, « 3 jours » above."""
    return format_timedelta(abs(delta), threshold=2, locale=locale)


def hours(value: float, locale: Locale) -> str:
    """« 48 heures »: a configured deadline, as configured (not rounded to days)."""
    return format_unit(value, "duration-hour", locale=locale)


def days(value: float, locale: Locale) -> str:
    return format_unit(value, "duration-day", locale=locale)
