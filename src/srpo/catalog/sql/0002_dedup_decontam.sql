-- 0002: duplicate and contamination indexes, registered benchmarks, catalog settings.

-- One row per cleaned, non-benchmark problem (and per benchmark problem, for near-duplicate
-- decontamination): the keys exact duplicates share and the number signature that must match.
CREATE TABLE dedup_index (
    source        VARCHAR NOT NULL,
    split         VARCHAR NOT NULL,
    source_index  VARCHAR NOT NULL,
    domain        VARCHAR NOT NULL,
    exact_key     VARCHAR NOT NULL,
    question_key  VARCHAR NOT NULL,
    numbers       VARCHAR NOT NULL,
    PRIMARY KEY (source, split, source_index)
);

-- MinHash LSH bands: problems sharing a (domain, band, bucket) are near-duplicate candidates.
CREATE TABLE lsh_buckets (
    domain        VARCHAR NOT NULL,
    band          SMALLINT NOT NULL,
    bucket        UBIGINT NOT NULL,
    source        VARCHAR NOT NULL,
    split         VARCHAR NOT NULL,
    source_index  VARCHAR NOT NULL
);

CREATE TABLE benchmarks (
    name          VARCHAR PRIMARY KEY,
    source        VARCHAR NOT NULL,
    split         VARCHAR,
    ngram         INTEGER NOT NULL,
    problems      BIGINT NOT NULL,
    registered_at TIMESTAMP NOT NULL
);

-- Word n-gram hashes of every benchmark problem.
CREATE TABLE benchmark_ngrams (
    benchmark     VARCHAR NOT NULL,
    ngram         UBIGINT NOT NULL,
    problem_id    VARCHAR NOT NULL
);

-- Settings the indexes were built with (a changed MinHash setting needs a rebuild).
CREATE TABLE catalog_settings (
    key           VARCHAR PRIMARY KEY,
    value         JSON NOT NULL
);

ALTER TABLE problems ADD COLUMN benchmark VARCHAR;
