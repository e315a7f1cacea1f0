"""Cleaning configuration and the stages that apply the math and code rules.

`CleaningConfig` is the one typed config behind `srpo-curate ingest` and `srpo-curate clean`
(TOML or YAML via `--config`, `--set filters.reject_multiple_choice=false`). `build_pipeline`
turns it into the stage list: required fields, the domain rules (on the raw text, so image
links and URLs are still visible), then the normaliser. Deduplication and decontamination run
afterwards against the whole catalog (see `dedup` and `decontam`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from srpo.catalog.records import Problem
from srpo.curate import rules_code, rules_math
from srpo.curate.normalise import Normalise
from srpo.curate.pipeline import Pipeline, RequiredFields


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


Rule = Callable[[Problem, FilterConfig], bool]


def _math_rules() -> list[tuple[str, Rule]]:
    return [
        ("math.multi_part", lambda p, c: rules_math.is_multi_part(p.question, p.answer)),
        ("math.proof", lambda p, c: rules_math.is_proof(p.question)),
        ("math.needs_image", lambda p, c: rules_math.needs_image(p.question)),
        ("math.needs_table", lambda p, c: rules_math.needs_table(p.question)),
        ("math.multiple_choice",
         lambda p, c: c.reject_multiple_choice and rules_math.is_multiple_choice(p.question, p.answer)),
        ("math.unverifiable_answer",
         lambda p, c: rules_math.is_unverifiable_answer(p.answer, max_words=c.max_answer_words)),
    ]  # fmt: skip


def _code_rules() -> list[tuple[str, Callable[[Problem, FilterConfig, object], bool]]]:
    return [
        ("code.file_io", lambda p, c, t: rules_code.needs_file_io(p.question, t, p.metadata)),
        ("code.network", lambda p, c, t: rules_code.needs_network(p.question, t)),
        ("code.environment",
         lambda p, c, t: rules_code.needs_environment(p.question, t, allowed=c.allowed_packages)),
        ("code.special_judge",
         lambda p, c, t: rules_code.needs_special_judge(
             p.question, p.tests, reject_tolerance=c.reject_tolerance_judged)),
    ]  # fmt: skip


def reasons_for(problem: Problem, config: FilterConfig) -> list[str]:
    """Every rule that fires on a problem, in stage order (the first one is its reject reason)."""
    if problem.domain == "math":
        return [name for name, rule in _math_rules() if rule(problem, config)]
    facts = rules_code.solution_facts(problem.solution)
    return [name for name, rule in _code_rules() if rule(problem, config, facts)]


@dataclass(slots=True)
class Filters:
    """Rejects problems with the first math or code rule that fires; notes the others too."""

    config: FilterConfig
    name: str = "filters"

    def apply(self, problems: Sequence[Problem]) -> None:
        for problem in problems:
            reasons = reasons_for(problem, self.config)
            if reasons:
                problem.reject(reasons[0])
                if len(reasons) > 1:
                    problem.metadata["also_rejected_by"] = reasons[1:]


def build_pipeline(config: CleaningConfig | None = None) -> Pipeline:
    config = config or CleaningConfig()
    return Pipeline([RequiredFields(), Filters(config.filters), Normalise()])
