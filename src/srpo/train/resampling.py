"""History resampling as a query: the problem set of a training epoch, computed in SQL.

SRPO (Kwaipilot 2025) rebuilds the training set after every epoch from the rewards it recorded:
a problem whose rollouts were all correct gives no gradient (every advantage is zero) and is
dropped; problems with mixed outcomes, and those never solved, stay. Here the record is the
`rollouts` table, so the set is one query over `problems` and `rollouts`:

1. eligible problems: kept, not benchmark rows, not contaminated, verified (by default), in
   the stage's domains (stage 1 math; stage 2 math and code), of the chosen difficulties, one
   row per problem_id (a problem found in several sources is one problem);
2. each problem's history in this run: the outcome of the latest epoch it was sampled in
   (new, mixed, all_wrong, solved), from the run's per-epoch sample and correct counts
   (`rollout_groups`, kept with `rollouts`: one row per sampled group, not per sample);
3. solved problems are dropped, or come back after `return_after_epochs` (`data.sampling`
   `history`; `uniform` and `dynamic` keep them);
4. in stage 2, the larger domain is subsampled to reach `code_share`; the order (and the
   subsample) is a hash of problem id, seed and epoch, so the same catalog, run and seed always
   give the same set: a resumed run trains on exactly the set it would have had, and
   `srpo-curate query --next-epoch RUN` shows it before the trainer gets there.

Covers: the SQL, and reading the problems' texts. Does not cover: storing an epoch's set
(`srpo.catalog.epochs`) or sampling (`trainer`). Imports neither torch nor DuckDB at import.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from srpo.catalog.epochs import EpochProblem
from srpo.errors import InputError

if TYPE_CHECKING:
    import duckdb

    from srpo.train.config import DataConfig

STAGE_DOMAINS = {1: ("math",), 2: ("math", "code")}
HISTORIES = ("new", "mixed", "all_wrong", "solved", "returned")

_EPOCH_SQL = """
WITH blocked AS (
    SELECT DISTINCT problem_id FROM problems
    WHERE benchmark IS NOT NULL OR contaminated_with IS NOT NULL
),
eligible AS (
    SELECT DISTINCT problem_id, domain FROM problems
    WHERE clean_status = 'kept' AND benchmark IS NULL AND contaminated_with IS NULL
      AND problem_id NOT IN (SELECT problem_id FROM blocked)
      AND {filters}
),
outcome AS (
    SELECT problem_id, max(epoch) AS last_epoch, arg_max(samples, epoch)::BIGINT AS samples,
           arg_max(correct, epoch)::BIGINT AS correct
    FROM rollout_groups WHERE run_id = $run_id AND epoch < $epoch GROUP BY problem_id
),
judged AS (
    SELECT e.problem_id, e.domain, o.last_epoch, o.samples, o.correct,
           CASE WHEN o.problem_id IS NULL THEN 'new'
                WHEN o.correct = o.samples THEN 'solved'
                WHEN o.correct = 0 THEN 'all_wrong' ELSE 'mixed' END AS outcome,
           md5(concat_ws(':', e.problem_id, $seed, $epoch)) AS shuffle
    FROM eligible e LEFT JOIN outcome o ON e.problem_id = o.problem_id
),
resampled AS (
    SELECT *, CASE
        WHEN outcome <> 'solved' THEN outcome
        WHEN NOT $drop_solved THEN 'solved'
        WHEN $return_after IS NOT NULL AND $epoch - last_epoch > $return_after THEN 'returned'
        END AS history
    FROM judged
),
kept AS (SELECT * FROM resampled WHERE history IS NOT NULL),
sizes AS (
    SELECT count(*) FILTER (domain = 'math') AS m, count(*) FILTER (domain = 'code') AS c FROM kept
),
quotas AS (
    SELECT
        CASE WHEN $code_share IS NULL OR m = 0 OR c = 0 THEN m
             WHEN c * (1 - $code_share) >= $code_share * m THEN m
             ELSE floor(c * (1 - $code_share) / $code_share) END AS math_quota,
        CASE WHEN $code_share IS NULL OR m = 0 OR c = 0 THEN c
             WHEN c * (1 - $code_share) >= $code_share * m THEN floor(m * $code_share / (1 - $code_share))
             ELSE c END AS code_quota
    FROM sizes
),
mixed AS (
    SELECT k.* FROM (
        SELECT *, row_number() OVER (PARTITION BY domain ORDER BY shuffle) AS domain_rank FROM kept
    ) k, quotas q
    WHERE k.domain_rank <= CASE k.domain WHEN 'math' THEN q.math_quota ELSE q.code_quota END
),
chosen AS (
    SELECT problem_id, row_number() OVER (ORDER BY shuffle) - 1 AS position
    FROM mixed ORDER BY shuffle LIMIT $limit
)
SELECT r.problem_id, r.domain, r.outcome, r.history, r.last_epoch, r.samples, r.correct, c.position
FROM resampled r LEFT JOIN chosen c ON r.problem_id = c.problem_id
ORDER BY c.position NULLS LAST, r.shuffle
"""


@dataclass(frozen=True, slots=True)
class JudgedProblem:
    """An eligible problem, its history in the run, and whether the epoch takes it."""

    problem_id: str
    domain: str
    outcome: str
    """new, mixed, all_wrong or solved: how its latest sampled epoch went."""
    history: str | None
    """Why it is in the set (new, mixed, all_wrong, solved, returned); None when dropped."""
    last_epoch: int | None
    samples: int | None
    correct: int | None
    position: int | None
    """Its place in the epoch's training order; None when not taken (dropped or subsampled)."""


@dataclass(frozen=True, slots=True)
class EpochPlan:
    """The result of the query for one epoch."""

    epoch: int
    stage: int
    judged: list[JudgedProblem] = field(default_factory=list)

    @property
    def problems(self) -> list[EpochProblem]:
        """The epoch's problems in training order."""
        chosen = sorted((p for p in self.judged if p.position is not None), key=lambda p: p.position or 0)
        return [EpochProblem(p.problem_id, p.domain, p.history or "") for p in chosen]

    @property
    def dropped(self) -> int:
        """Problems left out because every rollout of their latest epoch was correct."""
        return sum(1 for p in self.judged if p.history is None)

    @property
    def subsampled(self) -> int:
        """Problems kept by resampling but left out by the domain mix or data.epoch_size."""
        return sum(1 for p in self.judged if p.history is not None and p.position is None)

    def counts(self) -> dict[str, int]:
        """Problems taken, by history; plus dropped and subsampled."""
        taken = Counter(p.history for p in self.judged if p.position is not None)
        return {
            **{name: taken.get(name, 0) for name in HISTORIES},
            "dropped": self.dropped,
            "subsampled": self.subsampled,
        }


def _filters(data: DataConfig, stage: int) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    domains = STAGE_DOMAINS[stage]
    clauses.append("domain IN (" + ", ".join(f"'{d}'" for d in domains) + ")")
    if data.verified_only:
        clauses.append("verify_status = 'verified'")
    levels = [f"'{level}'" for level in data.difficulties]  # validated names, safe to inline
    rated = f"difficulty IN ({', '.join(levels)})" if levels else "false"
    clauses.append(f"({rated} OR difficulty IS NULL)" if data.include_unrated else rated)
    if data.sources:
        names = []
        for index, source in enumerate(data.sources):
            params[f"source{index}"] = source
            names.append(f"$source{index}")
        clauses.append(f"source IN ({', '.join(names)})")
    if data.where:
        clauses.append(f"({data.where})")
    return " AND ".join(clauses), params


def plan_epoch(
    con: duckdb.DuckDBPyConnection, data: DataConfig, *, run_id: str, epoch: int, stage: int, seed: int
) -> EpochPlan:
    """Judge every eligible problem for `epoch` of `run_id` from the run's earlier rollouts."""
    import duckdb

    data.validate()
    filters, params = _filters(data, stage)
    params |= {
        "run_id": run_id,
        "epoch": epoch,
        "seed": seed,
        "drop_solved": data.drops_solved,
        "return_after": data.return_after_epochs,
        "code_share": data.code_share,
        "limit": data.epoch_size,
    }
    try:
        rows = con.execute(_EPOCH_SQL.format(filters=filters), params).fetchall()
    except duckdb.Error as error:
        raise InputError(f"data.where: {str(error).strip().splitlines()[0]}") from error
    return EpochPlan(epoch=epoch, stage=stage, judged=[JudgedProblem(*row) for row in rows])


@dataclass(frozen=True, slots=True)
class ProblemText:
    """What a prompt and a grade need."""

    problem_id: str
    domain: str
    question: str
    answer: str | None
    tests: str | None  # JSON
    metadata: str | None  # JSON


def problem_texts(con: duckdb.DuckDBPyConnection, problem_ids: list[str]) -> dict[str, ProblemText]:
    """Question, answer and tests of each problem, from one kept occurrence (verified first)."""
    import pyarrow as pa

    con.register("srpo_wanted", pa.table({"problem_id": pa.array(problem_ids, pa.string())}))
    try:
        rows = con.execute(
            "SELECT problem_id, domain, question, answer, tests, metadata FROM ("
            "  SELECT p.*, row_number() OVER (PARTITION BY p.problem_id"
            "    ORDER BY p.verify_status = 'verified' DESC, p.source, p.split, p.source_index) AS rank"
            "  FROM problems p JOIN srpo_wanted w ON p.problem_id = w.problem_id"
            "  WHERE p.clean_status = 'kept' AND p.benchmark IS NULL"
            ") WHERE rank = 1"
        ).fetchall()
    finally:
        con.unregister("srpo_wanted")
    return {row[0]: ProblemText(*row) for row in rows}


def next_epoch_plan(con: duckdb.DuckDBPyConnection, run_id: str) -> EpochPlan:
    """The set a training run's next epoch gets, as the trainer will compute it: the epoch after
    the run's current one (or the current one if it has not started), in the run's stage, with
    the data settings and seed stored with the run."""
    from srpo.catalog.epochs import stored_epoch
    from srpo.catalog.runs import PEER_TRAINER_KINDS, TRAIN_KIND, get_run, run_position
    from srpo.config import build
    from srpo.train.config import DataConfig

    run = get_run(con, run_id)
    position = run_position(con, run_id)
    if run is None or position is None or run.kind not in (TRAIN_KIND, *PEER_TRAINER_KINDS):
        raise InputError(f"--next-epoch {run_id}: no training run with that id in this catalog")
    data = build(DataConfig, run.config.get("data", {}), where="data.")
    _, started = stored_epoch(con, run_id, position.epoch)
    epoch = position.epoch + 1 if started else position.epoch
    return plan_epoch(
        con, data, run_id=run_id, epoch=epoch, stage=position.stage, seed=int(run.config.get("seed", 0))
    )
