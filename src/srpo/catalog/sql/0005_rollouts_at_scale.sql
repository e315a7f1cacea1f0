-- 0005: rollouts at the scale of a training run (a 1M-problem, 10-epoch, 16-sample run writes
-- 160M rows). `bench/catalog_scale.py` measured at 10M rows:
-- * the primary key of `rollouts` is an index over every row that each flush of the trainer
--   (a new write connection every few seconds) has to load, check and write back: it went, and
--   `insert_rollouts` checks the uniqueness of (run, epoch, problem, sample) against
--   `rollout_groups` instead (and against `rollouts` only for the groups a batch extends);
-- * history resampling scanned every rollout of the run twice: it now reads `rollout_groups`,
--   one row per (run, epoch, problem) with its sample and correct counts (16 times fewer rows
--   with 16 samples per problem), kept up to date by srpo's writes (`insert_rollouts`,
--   `forget_after`) and filled here from the rollouts already stored.
CREATE TABLE rollouts_unkeyed (
    run_id          VARCHAR NOT NULL,
    epoch           INTEGER NOT NULL,
    stage           INTEGER NOT NULL,
    step            BIGINT,
    problem_id      VARCHAR NOT NULL,
    sample_idx      INTEGER NOT NULL,
    reward          DOUBLE NOT NULL,
    status          VARCHAR,
    response_tokens INTEGER,
    finish_reason   VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    response        VARCHAR,
    extracted       VARCHAR
);

INSERT INTO rollouts_unkeyed
SELECT run_id, epoch, stage, step, problem_id, sample_idx, reward, status, response_tokens, finish_reason,
       created_at, response, extracted
FROM rollouts;

DROP TABLE rollouts;

ALTER TABLE rollouts_unkeyed RENAME TO rollouts;

CREATE TABLE rollout_groups (
    run_id      VARCHAR NOT NULL,
    epoch       INTEGER NOT NULL,
    problem_id  VARCHAR NOT NULL,
    samples     INTEGER NOT NULL,
    correct     INTEGER NOT NULL
);

INSERT INTO rollout_groups
SELECT run_id, epoch, problem_id, count(*), count(*) FILTER (status = 'correct')
FROM rollouts GROUP BY run_id, epoch, problem_id;
