-- 0001: the initial catalog schema.
-- One row of `problems` per occurrence of a problem in a source: (source, split, source_index)
-- is the key, problem_id is the content hash (domain + normalised question), so the same
-- question in two sources shares a problem_id and the duplicate is a row with a reason.

CREATE TABLE ingests (
    ingest_id      BIGINT PRIMARY KEY,
    source         VARCHAR NOT NULL,
    split          VARCHAR,
    adapter        VARCHAR NOT NULL,
    location       VARCHAR NOT NULL,
    fingerprint    VARCHAR,
    options        JSON,
    status         VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted')),
    rows_read      BIGINT NOT NULL DEFAULT 0,
    rows_added     BIGINT NOT NULL DEFAULT 0,
    rows_existing  BIGINT NOT NULL DEFAULT 0,
    rows_kept      BIGINT NOT NULL DEFAULT 0,
    rows_rejected  BIGINT NOT NULL DEFAULT 0,
    rows_invalid   BIGINT NOT NULL DEFAULT 0,
    stage_counts   JSON,
    pid            INTEGER,
    host           VARCHAR,
    srpo_version   VARCHAR,
    resumed        INTEGER NOT NULL DEFAULT 0,
    error          VARCHAR,
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP
);

CREATE TABLE problems (
    problem_id        VARCHAR NOT NULL,
    source            VARCHAR NOT NULL,
    split             VARCHAR NOT NULL,
    source_index      VARCHAR NOT NULL,
    domain            VARCHAR NOT NULL CHECK (domain IN ('math', 'code')),
    question          VARCHAR NOT NULL,
    answer            VARCHAR,
    solution          VARCHAR,
    tests             JSON,
    metadata          JSON,
    license           VARCHAR,
    clean_status      VARCHAR NOT NULL DEFAULT 'kept' CHECK (clean_status IN ('kept', 'rejected')),
    reject_reason     VARCHAR,
    verify_status     VARCHAR NOT NULL DEFAULT 'pending'
                      CHECK (verify_status IN ('pending', 'verified', 'wrong', 'ambiguous', 'unverifiable', 'flaky')),
    verify_reason     VARCHAR,
    difficulty        VARCHAR CHECK (difficulty IN ('easy', 'medium', 'hard')),
    pass_rate         DOUBLE,
    pass_at_k         JSON,
    dup_of            VARCHAR,
    contaminated_with VARCHAR,
    row_hash          VARCHAR NOT NULL,
    ingest_id         BIGINT,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (source, split, source_index)
);

CREATE TABLE invalid_rows (
    ingest_id   BIGINT,
    source      VARCHAR NOT NULL,
    split       VARCHAR,
    file        VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    field       VARCHAR,
    error       VARCHAR NOT NULL,
    raw         VARCHAR,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (file, line)
);

CREATE TABLE runs (
    run_id      VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    model       VARCHAR,
    config      JSON,
    status      VARCHAR NOT NULL DEFAULT 'running',
    stage       INTEGER,
    epoch       INTEGER,
    step        BIGINT,
    notes       JSON,
    started_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);

CREATE TABLE rollouts (
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
    PRIMARY KEY (run_id, epoch, problem_id, sample_idx)
);
