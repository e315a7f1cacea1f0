-- 0003: what each rollout said. `srpo-curate difficulty` keeps every sample for later analysis
-- (why a problem is hard: no answer, a wrong one, cut off); the trainer may leave both NULL
-- and write texts to Parquet instead.
ALTER TABLE rollouts ADD COLUMN response VARCHAR;
ALTER TABLE rollouts ADD COLUMN extracted VARCHAR;
