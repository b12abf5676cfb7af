"""Benchmark: themes and tone of French comments, the former classifier against the new one.

    python -m bench.analyzer.themes [--reps 5] [--errors spacy [--split heldout]]
    python -m bench --only analyzer_themes

No broker, no database. ``comments_fr.jsonl`` holds comments from learners, companies,
funders and trainers with their gold labels: ``negative`` (the comment reports a problem, a
lack or a wished-for change about something) and ``themes`` (the taxonomy themes of its
negative parts: the cause, not what it prevented; none when it is not negative or blames
nothing the taxonomy names). ``split``: the taxonomy's cues and the rules were tuned on the
errors of the ``dev`` comments; the ``heldout`` comments were written before any code, and
only one rule (a theme word qualifying another one's in the parse is circumstance) was
written after their errors had been looked at; the ``heldout_late`` comments were written
after the last change to the rules and the taxonomy and measured once: the cleanest figures.

Classifiers, all in the same run:

* ``baseline``: the former classifier and taxonomy (``themes_baseline.py``,
  ``taxonomy_baseline.fr.json``), as they were before issue 13;
* ``plain``: the new classifier and taxonomy on the pure fallback analyser (no model);
* ``spacy``: the new classifier on ``fr_core_news_sm`` (lemmas, parse): what the service runs.

Quality: precision, recall and F1 per theme (a comment's predicted themes against its gold
themes, over every comment), micro and macro over the seven themes; accuracy of the
negative / not negative flag; comments whose theme set is exactly right. Cost: milliseconds
per comment (p50, p95), each comment alone, and per comment through ``classify_many``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.analyzer import themes_baseline
from boucle_analyzer.adapters.spacy_french import DEFAULT_MODEL, SpacyFrenchAnalyser
from boucle_analyzer.adapters.taxonomy_files import DEFAULT_TAXONOMY, load_taxonomy
from boucle_analyzer.domain.french_text import PlainAnalyser
from boucle_analyzer.domain.themes import Classifier, TaxonomyCatalog

DATA = Path(__file__).with_name("comments_fr.jsonl")
BASELINE_TAXONOMY = Path(__file__).with_name("taxonomy_baseline.fr.json")
CLASSIFIERS = ("baseline", "plain", "spacy")
SPLITS = ("dev", "heldout", "heldout_late")
NETWORK = "bench"
Prediction = tuple[frozenset[str], bool]


@dataclass(frozen=True)
class Comment:
    id: str
    text: str
    themes: frozenset[str]
    negative: bool
    split: str  # "dev": tuned on its errors; "heldout", "heldout_late": see the module doc
    speaker: str
    tags: tuple[str, ...]


def load(path: Path = DATA) -> list[Comment]:
    comments = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            if raw["themes"] and not raw["negative"]:
                raise ValueError(f"{raw['id']}: themes are those of negative comments")
            if raw["split"] not in SPLITS:
                raise ValueError(f"{raw['id']}: unknown split {raw['split']!r}")
            comments.append(
                Comment(
                    id=raw["id"],
                    text=raw["text"],
                    themes=frozenset(raw["themes"]),
                    negative=raw["negative"],
                    split=raw["split"],
                    speaker=raw["speaker"],
                    tags=tuple(raw.get("tags", ())),
                )
            )
    return comments


def _ratios(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def quality(
    comments: Sequence[Comment], predicted: Sequence[Prediction], themes: Sequence[str]
) -> dict[str, Any]:
    counts = {t: [0, 0, 0] for t in themes}  # tp, fp, fn
    errors = []
    for comment, (found, negative) in zip(comments, predicted, strict=True):
        for theme in themes:
            if theme in comment.themes:
                counts[theme][0 if theme in found else 2] += 1
            elif theme in found:
                counts[theme][1] += 1
        if found != comment.themes or negative != comment.negative:
            errors.append(
                f"{comment.id} {comment.text!r}: gold {sorted(comment.themes)} "
                f"{'neg' if comment.negative else 'ok'}, got {sorted(found)} "
                f"{'neg' if negative else 'ok'}"
            )
    per_theme = {t: _ratios(*c) | {"support": c[0] + c[2]} for t, c in counts.items()}
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    negative_right = sum(n == c.negative for c, (_, n) in zip(comments, predicted, strict=True))
    exact = sum(f == c.themes for c, (f, _) in zip(comments, predicted, strict=True))
    return {
        "comments": len(comments),
        "per_theme": per_theme,
        "micro": _ratios(*total),
        "macro": {
            k: round(statistics.fmean(r[k] for r in per_theme.values()), 3)
            for k in ("precision", "recall", "f1")
        },
        "negative_accuracy": round(negative_right / len(comments), 3),
        "exact_themes": round(exact / len(comments), 3),
        "errors": errors,
    }


def classifiers(
    analyser: SpacyFrenchAnalyser,
) -> dict[str, Callable[[Sequence[str]], list[Prediction]]]:
    old = themes_baseline.Taxonomy.from_config(
        json.loads(BASELINE_TAXONOMY.read_text(encoding="utf-8"))
    )
    catalog = TaxonomyCatalog(default=load_taxonomy(DEFAULT_TAXONOMY))
    plain, spacy = Classifier(PlainAnalyser(), catalog), Classifier(analyser, catalog)

    def baseline(texts: Sequence[str]) -> list[Prediction]:
        found = [themes_baseline.classify(old, t) for t in texts]
        return [(frozenset(f.themes), f.negative) for f in found]

    def new(classifier: Classifier) -> Callable[[Sequence[str]], list[Prediction]]:
        def run(texts: Sequence[str]) -> list[Prediction]:
            found = classifier.classify_many(NETWORK, texts)
            return [(frozenset(f.themes), f.negative) for f in found]

        return run

    return {"baseline": baseline, "plain": new(plain), "spacy": new(spacy)}


def cost(
    comments: Sequence[Comment],
    ways: dict[str, Callable[[Sequence[str]], list[Prediction]]],
    reps: int,
) -> dict[str, Any]:
    """Milliseconds per comment, one at a time, passes interleaved (B, P, S, S, P, B…)."""
    timings: dict[str, list[float]] = {name: [] for name in ways}
    order = list(ways)
    for rep in range(reps):
        for name in order if rep % 2 == 0 else reversed(order):
            for comment in comments:
                started = time.perf_counter()
                ways[name]([comment.text])
                timings[name].append((time.perf_counter() - started) * 1000)
    texts = [c.text for c in comments]
    batched = {}
    for name, way in ways.items():
        started = time.perf_counter()
        way(texts)
        batched[name] = round((time.perf_counter() - started) * 1000 / len(texts), 3)
    baseline = statistics.median(timings["baseline"])
    return {
        name: {
            "p50_ms": round(statistics.median(values), 4),
            "p95_ms": round(statistics.quantiles(values, n=20)[18], 4),
            "p50_vs_baseline": round(statistics.median(values) / baseline, 1),
            "batched_ms": batched[name],
        }
        for name, values in timings.items()
    }


def run(*, reps: int = 5, data: Path = DATA) -> dict[str, Any]:
    comments = load(data)
    analyser = SpacyFrenchAnalyser()
    started = time.perf_counter()
    analyser.load()
    load_seconds = time.perf_counter() - started
    ways = classifiers(analyser)
    themes = list(load_taxonomy(DEFAULT_TAXONOMY).themes)
    texts = [c.text for c in comments]
    predicted = {name: way(texts) for name, way in ways.items()}
    splits: dict[str, list[int]] = {"all": list(range(len(comments)))}
    for split in SPLITS:
        splits[split] = [i for i, c in enumerate(comments) if c.split == split]
    # Both held-out sets together: every comment no rule was written from.
    splits["heldout_all"] = [i for i, c in enumerate(comments) if c.split != "dev"]
    return {
        "model": DEFAULT_MODEL,
        "model_parses": analyser.parses,
        "model_load_seconds": round(load_seconds, 2),
        "comments": len(comments),
        "by_split": {split: len(indices) for split, indices in splits.items()},
        "negative_comments": sum(c.negative for c in comments),
        "targets": {"theme_f1": 0.9, "negative_accuracy": 0.95},
        "quality": {
            split: {
                name: quality(
                    [comments[i] for i in indices], [predicted[name][i] for i in indices], themes
                )
                for name in CLASSIFIERS
            }
            for split, indices in splits.items()
        },
        "cost": cost(comments, ways, reps),
        "reps": reps,
    }


async def bench_themes(*, reps: int) -> dict[str, Any]:
    """For ``python -m bench``: CPU-bound and short, run on the runner's loop."""
    return run(reps=reps)


def table(result: dict[str, Any]) -> str:
    themes = list(result["quality"]["all"]["spacy"]["per_theme"])
    by_split = result["by_split"]
    lines = [
        f"{result['comments']} comments ({by_split['dev']} dev, {by_split['heldout']} held-out, "
        f"{by_split['heldout_late']} late held-out), {result['negative_comments']} negative; "
        f"model {result['model']} loaded in {result['model_load_seconds']} s; "
        f"targets: theme F1 >= 0.9, negative accuracy >= 0.95",
        f"{'set':<13}{'classifier':<9}"
        + "".join(f"{t[:8]:>9}" for t in themes)
        + f"{'micro P':>9}{'micro R':>9}{'micro F1':>9}{'macro F1':>9}{'neg acc':>9}{'exact':>7}",
    ]
    for split, by_name in result["quality"].items():
        for name in CLASSIFIERS:
            q = by_name[name]
            lines.append(
                f"{split:<13}{name:<9}"
                + "".join(f"{q['per_theme'][t]['f1']:>9.3f}" for t in themes)
                + f"{q['micro']['precision']:>9.3f}{q['micro']['recall']:>9.3f}"
                f"{q['micro']['f1']:>9.3f}{q['macro']['f1']:>9.3f}"
                f"{q['negative_accuracy']:>9.3f}{q['exact_themes']:>7.3f}"
            )
    lines.append("(per-theme columns: F1; precision and recall per theme are in the JSON)")
    lines.append(
        f"{'cost per comment':<18}{'p50 ms':>9}{'p95 ms':>9}{'p50/base':>9}{'batch ms':>9}"
    )
    for name, c in result["cost"].items():
        lines.append(
            f"{name:<18}{c['p50_ms']:>9.3f}{c['p95_ms']:>9.3f}"
            f"{c['p50_vs_baseline']:>8}x{c['batched_ms']:>9.3f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.analyzer.themes", description=__doc__)
    parser.add_argument("--reps", type=int, default=5, help="timed passes over the set")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="write the full result there")
    parser.add_argument("--errors", choices=CLASSIFIERS, help="list that classifier's errors")
    parser.add_argument("--split", choices=SPLITS, default="dev", help="whose errors to list")
    args = parser.parse_args(argv)
    result = run(reps=args.reps, data=args.data)
    print(table(result))
    if args.errors:
        errors = result["quality"][args.split][args.errors]["errors"]
        print(f"\n{args.errors} on {args.split}: {len(errors)} comments wrong")
        print("\n".join(errors))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
