"""`rollouts` without a primary key: uniqueness checked on insert, `rollout_groups` always equal to
what `rollouts` holds (insert, skip, forget), and a catalog of the previous schema migrating with
its rollouts and their groups; the trained flag, written as given and true for rows stored
before it existed."""

from __future__ import annotations

import duckdb
import pytest

from srpo.catalog import Catalog, migrations
from srpo.catalog.records import utcnow
from srpo.catalog.rollouts import RolloutRow, insert_rollout_table, insert_rollouts, rollout_table
from srpo.catalog.runs import TRAIN_KIND, forget_after, start_run
from srpo.errors import CatalogError


def rows(run: str, problem: str, *, epoch: int, step: int, correct: int, samples: int = 4, first: int = 0):
    return [
        RolloutRow(run_id=run, problem_id=problem, sample_idx=first + k, reward=float(k < correct),
                   status="correct" if k < correct else "wrong", response_tokens=5, finish_reason="stop",
                   epoch=epoch, stage=1, step=step)
        for k in range(samples)
    ]  # fmt: skip


def groups(catalog) -> set[tuple]:
    with catalog.reader() as con:
        return set(
            con.execute("SELECT run_id, epoch, problem_id, samples, correct FROM rollout_groups").fetchall()
        )


def groups_from_rollouts(catalog) -> set[tuple]:
    with catalog.reader() as con:
        return set(
            con.execute(
                "SELECT run_id, epoch, problem_id, count(*), count(*) FILTER (status = 'correct') "
                "FROM rollouts GROUP BY ALL"
            ).fetchall()
        )


def test_groups_follow_inserts_and_a_stored_sample_is_never_inserted_twice(catalog):
    with catalog.writer() as con:
        insert_rollouts(
            con, rows("r", "a", epoch=0, step=1, correct=4) + rows("r", "b", epoch=0, step=1, correct=1)
        )
        insert_rollouts(
            con, rows("r", "a", epoch=1, step=2, correct=2) + rows("s", "a", epoch=0, step=1, correct=0)
        )
        insert_rollouts(
            con, rows("r", "b", epoch=0, step=3, correct=1, samples=2, first=4)
        )  # extends a group
    assert groups(catalog) == groups_from_rollouts(catalog)
    assert ("r", 0, "b", 6, 2) in groups(catalog)
    stored = r"\(run r, epoch 0, problem a, sample 2\) is already stored"
    with pytest.raises(CatalogError, match=stored), catalog.writer() as con:
        insert_rollouts(con, rows("r", "a", epoch=0, step=9, correct=0, samples=1, first=2))
    with pytest.raises(CatalogError, match="appears twice in one batch"), catalog.writer() as con:
        insert_rollouts(con, rows("r", "c", epoch=0, step=9, correct=0) * 2)
    with catalog.writer() as con:  # landing a spool again: the stored rows are left out, the new one added
        table = rollout_table(rows("r", "a", epoch=1, step=2, correct=2, samples=5))
        assert insert_rollout_table(con, table, skip_stored=True) == 1
    assert groups(catalog) == groups_from_rollouts(catalog)
    assert ("r", 1, "a", 5, 2) in groups(catalog)


def test_forgetting_steps_recounts_their_groups(catalog):
    with catalog.writer() as con:
        start_run(con, "r", kind=TRAIN_KIND, model="m", config={})
        insert_rollouts(
            con, rows("r", "a", epoch=0, step=1, correct=4) + rows("r", "b", epoch=0, step=2, correct=1)
        )
        insert_rollouts(
            con, rows("r", "a", epoch=1, step=3, correct=1) + rows("r", "b", epoch=1, step=4, correct=0)
        )
        assert forget_after(con, "r", step=3, epoch=1) == 4
    assert groups(catalog) == groups_from_rollouts(catalog) == {
        ("r", 0, "a", 4, 4), ("r", 0, "b", 4, 1), ("r", 1, "a", 4, 1)
    }  # fmt: skip


def test_a_catalog_of_the_previous_schema_migrates_with_its_rollouts(tmp_path):
    path = tmp_path / "v4.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
    )
    for migration in migrations.migrations()[:4]:
        for statement in migration.statements:
            con.execute(statement)
        con.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)",
            [migration.version, migration.description, utcnow()],
        )
    now = utcnow()
    for epoch, problem, sample, status in [
        (0, "a", 0, "correct"),
        (0, "a", 1, "wrong"),
        (1, "a", 0, "wrong"),
        (0, "b", 0, "correct"),
    ]:
        con.execute(
            "INSERT INTO rollouts (run_id, epoch, stage, step, problem_id, sample_idx, reward, status, "
            "response_tokens, finish_reason, created_at, response) VALUES ('r', ?, 1, 1, ?, ?, 0, ?, 3, 'stop', ?, 'text')",
            [epoch, problem, sample, status, now],
        )
    con.close()

    catalog = Catalog.open(path)
    with catalog.reader() as con:
        assert migrations.current_version(con) == migrations.latest_version()
        assert con.execute("SELECT count(*), count(response) FROM rollouts").fetchall() == [(4, 4)]
        keys = con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'rollouts' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        assert keys == [(0,)]
    assert groups(catalog) == {("r", 0, "a", 2, 1), ("r", 1, "a", 1, 0), ("r", 0, "b", 1, 1)}
    # Uniqueness still holds after the migration.
    with pytest.raises(CatalogError, match="already stored"), catalog.writer() as con:
        insert_rollouts(con, rows("r", "b", epoch=0, step=2, correct=0, samples=1))


def trained_row(index: int, *, trained: bool = True) -> RolloutRow:
    return RolloutRow(run_id="r", problem_id="p", sample_idx=index, reward=0.0, status="wrong",
                      response_tokens=3, finish_reason="stop", trained=trained)  # fmt: skip


def test_the_trained_flag_is_stored(catalog):
    with catalog.writer() as con:
        insert_rollouts(con, [trained_row(0), trained_row(1, trained=False)])
    with catalog.reader() as con:
        assert con.execute("SELECT sample_idx, trained FROM rollouts ORDER BY 1").fetchall() == [
            (0, True),
            (1, False),
        ]


def test_rollouts_stored_before_the_flag_count_as_trained(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    [flag] = [m for m in migrations.migrations() if m.description == "rollout trained"]
    for migration in migrations.migrations():
        if migration.version >= flag.version:
            break
        for statement in migration.statements:
            con.execute(statement)
    con.execute(
        "INSERT INTO rollouts (run_id, epoch, stage, problem_id, sample_idx, reward, created_at) "
        "VALUES ('old', 0, 1, 'p', 0, 1.0, ?)",
        [utcnow()],
    )
    for statement in flag.statements:
        con.execute(statement)
    assert con.execute("SELECT run_id, trained FROM rollouts").fetchall() == [("old", True)]
