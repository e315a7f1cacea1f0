-- 0006: whether a training run trained on each rollout. DAPO's dynamic sampling
-- (`data.sampling = dynamic`) generates groups it then leaves out of the update (all right or
-- all wrong); they are recorded like any other rollout, so what each sampling mode cost is on
-- record, with `trained = false`. Every earlier rollout, and every rollout of other runs, is
-- trained (difficulty runs' samples keep the default).
ALTER TABLE rollouts ADD COLUMN trained BOOLEAN DEFAULT true;
