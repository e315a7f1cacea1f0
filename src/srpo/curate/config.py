"""Curation's settings: `CleaningConfig`, the one typed config behind `srpo-curate ingest` and
`srpo-curate clean` (TOML or YAML via `--config`, `--set filters.reject_multiple_choice=false`).

Sections: `filters` (what the math and code rules in `srpo.curate.rules` reject), `dedup` (exact
and near duplicates), `decontam` (benchmark contamination). Nothing here runs a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class FilterConfig:
    reject_multiple_choice: bool = True
    """Reject math problems with answer choices: a guessed letter earns reward (PRIME drops them)."""
    reject_tolerance_judged: bool = True
    """Reject code problems whose real-number output is judged with a tolerance (exact compare only)."""
    max_answer_words: int = 5
    """A gold answer with more words than this (outside LaTeX) is prose, not a checkable answer."""
    allowed_packages: tuple[str, ...] = ()
    """Third-party packages the sandbox provides, e.g. ["sortedcontainers"]: not a `code.environment`."""


@dataclass(frozen=True, kw_only=True)
class DedupConfig:
    enabled: bool = True
    """Find exact and near duplicates across sources and ingests."""
    threshold: float = 0.8
    """Jaccard similarity of shingle sets at or above which two problems are near duplicates."""
    shingle_size: int = 2
    """Shingles are the token n-grams of length 1 to this (words, numbers, LaTeX commands and
    symbols are tokens): with 2, one changed word in a 20-word problem leaves a Jaccard of about 0.85."""
    num_perm: int = 128
    """MinHash permutations; with the threshold this fixes the LSH bands (datasketch's choice)."""
    seed: int = 1
    """MinHash seed; changing it invalidates stored signatures, so keep it fixed per catalog."""


@dataclass(frozen=True, kw_only=True)
class DecontamConfig:
    ngram: int = 13
    """Shared word n-gram length that marks a training problem as contaminated (13 as in GPT-3),
    when the benchmark problem's numbers also appear, in order, in the training problem (so a
    template with other numbers, or shared boilerplate, is not contamination)."""
    near_duplicates: bool = True
    """Also flag training problems that are near duplicates of a benchmark problem."""
    near_threshold: float = 0.6
    """Shingle Jaccard similarity at or above which a training problem with the same numbers and
    operators as a benchmark problem is contaminated: lower than the dedup threshold, because the
    shared numbers already make a match specific (a reworded short problem scores 0.7 to 0.8)."""


@dataclass(frozen=True, kw_only=True)
class CleaningConfig:
    filters: FilterConfig = field(default_factory=FilterConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    decontam: DecontamConfig = field(default_factory=DecontamConfig)
