"""Taxonomies from JSON files: the committed default, and one file per network overriding it."""

from __future__ import annotations

import json
from pathlib import Path

from boucle_analyzer.domain.themes import Taxonomy, TaxonomyCatalog

DEFAULT_TAXONOMY = Path(__file__).resolve().parent.parent / "config" / "taxonomy.fr.json"


def load_taxonomy(path: Path) -> Taxonomy:
    try:
        return Taxonomy.from_config(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ValueError(f"taxonomy file {path}: {error}") from error


def load_catalog(default: Path | None, overrides_dir: Path | None) -> TaxonomyCatalog:
    """``overrides_dir/<network_id>.json`` replaces the default for that network."""
    overrides = (
        {path.stem: load_taxonomy(path) for path in sorted(overrides_dir.glob("*.json"))}
        if overrides_dir is not None
        else {}
    )
    return TaxonomyCatalog(default=load_taxonomy(default or DEFAULT_TAXONOMY), overrides=overrides)
