-- 0004: training runs. `epoch_problems` keeps the problem set of every epoch a training run has
-- started, in training order: the result of the history-resampling query at the moment the
-- epoch began. A resumed run continues the same epoch from it, even if the catalog changed
-- since; and users can see which problems each epoch trained on and why (history).
CREATE TABLE epoch_problems (
    run_id      VARCHAR NOT NULL,
    epoch       INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    problem_id  VARCHAR NOT NULL,
    domain      VARCHAR NOT NULL,
    stage       INTEGER NOT NULL,
    history     VARCHAR NOT NULL,
    PRIMARY KEY (run_id, epoch, position)
);

-- Where a training run switched from stage 1 to stage 2 (step and reason: steps, plateau,
-- exhausted), and its latest checkpoint, which `srpo-train --resume` loads.
ALTER TABLE runs ADD COLUMN stage_switch_step BIGINT;
ALTER TABLE runs ADD COLUMN stage_switch_reason VARCHAR;
ALTER TABLE runs ADD COLUMN checkpoint VARCHAR;
