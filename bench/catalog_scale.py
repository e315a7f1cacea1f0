"""The catalog at the size of a real training run: 10M+ rollout rows.

Builds (or reuses, with `--catalog PATH`) a catalog holding `--problems` kept, verified math
problems and one training run that has sampled every problem `--samples` times in each of
`--epochs` epochs (160,000 x 16 x 4 = 10.24M rows by default), written epoch after epoch as the
trainer appends them. Each problem has a fixed solve rate, so the history is a realistic mix of
solved, mixed and all-wrong groups. Then prints:

- `next-epoch query`: `srpo.train.resampling.next_epoch_plan` (what the trainer computes when an
  epoch starts, and `srpo-curate query --next-epoch` shows), median of `--repeats`;
- `flush of 8,192 rollouts`: one write of the trainer's rollout buffer as `CatalogRecord.flush`
  does it (open the file for writing, insert the rows, update the run's position, commit,
  close), median of `--repeats`;
- the catalog's file size, rows, and how long building it took.

Usage: just bench catalog_scale [--problems N] [--epochs N] [--samples N] [--catalog PATH]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import report

RUN_ID = "scale"
FLUSH_ROWS = 8192


def build(path: Path, *, problems: int, epochs: int, samples: int) -> float:
    """The catalog with its problems and the run's rollouts; returns the seconds it took."""
    from srpo.catalog import Catalog
    from srpo.catalog.records import utcnow
    from srpo.catalog.runs import TRAIN_KIND, set_position, start_run

    started = time.perf_counter()
    catalog = Catalog.open(path, create=True)
    now = utcnow()
    with catalog.writer() as con:
        con.execute(
            "INSERT INTO problems (problem_id, source, split, source_index, domain, question, answer, "
            "clean_status, verify_status, row_hash, created_at, updated_at) "
            "SELECT 'p' || lpad(i::VARCHAR, 10, '0'), 'scale', 'train', i::VARCHAR, 'math', "
            "'What is ' || i || ' + 1?', (i + 1)::VARCHAR, 'kept', 'verified', md5(i::VARCHAR), ?, ? "
            "FROM range(?) t(i)",
            [now, now, problems],
        )
        config = {"seed": 0, "data": {"include_unrated": True}, "output_dir": str(path.parent / RUN_ID)}
        start_run(con, RUN_ID, kind=TRAIN_KIND, model="bench", config=config)
    # One epoch at a time, in steps of `step_problems` problems, in SQL (building 10M rows
    # through Python objects would take longer than everything measured here); the flush
    # measured below goes through the trainer's own insert.
    step_problems = max(1, 200_000 // samples)
    step = 0
    with catalog.reader() as con:
        groups = bool(con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'rollout_groups'"
        ).fetchall()[0][0])  # fmt: skip
    for epoch in range(epochs):
        for first in range(0, problems, step_problems):
            step += 1
            with catalog.writer() as con:
                con.execute(_ROLLOUTS_SQL, {"run": RUN_ID, "epoch": epoch, "step": step, "first": first,
                                            "last": min(problems, first + step_problems), "samples": samples,
                                            "now": now})  # fmt: skip
                if groups:  # what insert_rollouts keeps (the catalog of an earlier srpo has none)
                    con.execute(_GROUPS_SQL, [RUN_ID, step])
                set_position(con, RUN_ID, stage=1, epoch=epoch, step=step)
        with catalog.writer() as con:
            con.execute(
                "INSERT INTO epoch_problems SELECT ?, ?, i, 'p' || lpad(i::VARCHAR, 10, '0'), 'math', 1, "
                "'new' FROM range(?) t(i)",
                [RUN_ID, epoch, problems],
            )
        print(f"built epoch {epoch}: {(epoch + 1) * problems * samples:,} rows", file=sys.stderr, flush=True)
    return time.perf_counter() - started


# Problem i has a solve rate of ((i % 10) - 2) / 7 (at least 0), a little higher each epoch; a
# sample's outcome is a fixed hash of (problem, epoch, sample), so every build is the same.
_ROLLOUTS_SQL = """
INSERT INTO rollouts (run_id, epoch, stage, step, problem_id, sample_idx, reward, status, response_tokens,
                      finish_reason, created_at)
SELECT $run, $epoch, 1, $step, 'p' || lpad(i::VARCHAR, 10, '0'), k, correct::DOUBLE,
       CASE WHEN correct THEN 'correct' ELSE 'wrong' END, 100 + k, 'stop', $now
FROM (
    SELECT i, k, (i * 7919 + $epoch * 104729 + k * 15485863) % 1000
                 < least(1.0, greatest(0.0, ((i % 10) - 2) / 7) + $epoch / 32) * 1000 AS correct
    FROM range($first, $last) p(i), range($samples) s(k)
)
"""
_GROUPS_SQL = """
INSERT INTO rollout_groups SELECT run_id, epoch, problem_id, count(*), count(*) FILTER (status = 'correct')
FROM rollouts WHERE run_id = ? AND step = ? GROUP BY ALL
"""


def time_next_epoch(catalog, repeats: int) -> tuple[list[float], dict[str, int]]:
    from srpo.train.resampling import next_epoch_plan

    times, counts = [], {}
    for _ in range(repeats):
        gc.collect()  # the garbage of the previous round is not this one's cost
        started = time.perf_counter()
        with catalog.reader() as con:
            plan = next_epoch_plan(con, RUN_ID)
        times.append(time.perf_counter() - started)
        counts = plan.counts()
    return times, counts


def time_flush(catalog, repeats: int, *, epoch: int, samples: int) -> list[float]:
    """Writes of FLUSH_ROWS new rollouts (the next epoch's first steps), as CatalogRecord.flush."""
    import pyarrow  # noqa: F401  (the trainer imported it long before its first flush)

    from srpo.catalog.rollouts import RolloutRow, insert_rollouts
    from srpo.catalog.runs import set_position

    with catalog.reader() as con:
        [(step,)] = con.execute(
            "SELECT coalesce(max(step), 0) FROM rollouts WHERE run_id = ?", [RUN_ID]
        ).fetchall()
        [(done,)] = con.execute(
            "SELECT count(DISTINCT problem_id) FROM rollouts WHERE run_id = ? AND epoch = ?", [RUN_ID, epoch]
        ).fetchall()
    per_flush = FLUSH_ROWS // samples
    times = []
    for repeat in range(repeats):
        first = done + repeat * per_flush
        rows = [
            RolloutRow(run_id=RUN_ID, problem_id=f"p{i:010d}", sample_idx=k, reward=0.0, status="wrong",
                       response_tokens=50, finish_reason="stop", epoch=epoch, stage=1, step=step + repeat + 1)
            for i in range(first, first + per_flush)
            for k in range(samples)
        ]  # fmt: skip
        gc.collect()  # the collector's debt from building the rows (or the plans) is not the flush's
        started = time.perf_counter()
        with catalog.writer() as con:
            insert_rollouts(con, rows)
            set_position(con, RUN_ID, stage=1, epoch=epoch, step=step + repeat + 1)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--problems", type=int, default=160_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--catalog", type=Path, help="build here, or reuse a catalog this bench built")
    args = parser.parse_args()

    from srpo.catalog import Catalog

    with tempfile.TemporaryDirectory(prefix="srpo-scale-") as scratch:
        path = args.catalog or Path(scratch) / "scale.duckdb"
        if path.exists():
            report("built in", "reused " + str(path))
        else:
            seconds = build(path, problems=args.problems, epochs=args.epochs, samples=args.samples)
            report("built in", seconds, "s")
        from srpo.catalog import migrations

        with Catalog(path).reader() as con:
            version = migrations.current_version(con)
        started = time.perf_counter()
        catalog = Catalog.open(path)  # migrates a catalog built by an earlier srpo
        opened = time.perf_counter() - started
        if version < migrations.latest_version():
            report(f"migration from schema v{version}", opened, "s")
        with catalog.reader() as con:
            [(rows, epochs)] = con.execute(
                "SELECT count(*), count(DISTINCT epoch) FROM rollouts WHERE run_id = ?", [RUN_ID]
            ).fetchall()
        report("rollout rows", f"{rows:,}")
        report("epochs recorded", epochs)
        times, counts = time_next_epoch(catalog, args.repeats)
        report("next-epoch query (median)", statistics.median(times), "s")
        report("next-epoch query (all)", ", ".join(f"{t:.3f}" for t in times), "s")
        report("next epoch", ", ".join(f"{key} {value}" for key, value in counts.items()))
        flushes = time_flush(catalog, args.repeats, epoch=epochs, samples=args.samples)
        report(f"flush of {FLUSH_ROWS:,} rollouts (median)", statistics.median(flushes), "s")
        report(f"flush of {FLUSH_ROWS:,} rollouts (all)", ", ".join(f"{t:.3f}" for t in flushes), "s")
        size = sum(os.path.getsize(p) for p in (path, Path(f"{path}.wal")) if p.exists())
        report("catalog file size", size / 2**20, "MiB")
        report("load average", ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
