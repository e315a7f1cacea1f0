"""The `rollouts` table's trained flag: written as given, and true for rows stored before it existed."""

from __future__ import annotations

import duckdb

from srpo.catalog import migrations
from srpo.catalog.records import utcnow
from srpo.catalog.rollouts import RolloutRow, insert_rollouts


def row(index: int, *, trained: bool = True) -> RolloutRow:
    return RolloutRow(run_id="r", problem_id="p", sample_idx=index, reward=0.0, status="wrong",
                      response_tokens=3, finish_reason="stop", trained=trained)  # fmt: skip


def test_the_trained_flag_is_stored(catalog):
    with catalog.writer() as con:
        insert_rollouts(con, [row(0), row(1, trained=False)])
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
