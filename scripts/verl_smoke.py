"""srpo's verl integration through verl's own code, on CPU (`just verl-smoke`, in .venv-verl).

Started by scripts/verl_smoke.sh with srpo on PYTHONPATH. Builds a toy catalog (math and a code
problem), exports it with `srpo-curate query --export verl`, and then, with verl's classes:
1. `get_custom_reward_fn` loads `compute_score` from `pkg://srpo.integrations.verl` and verl's
   `NaiveRewardManager` scores tokenized responses with it;
2. `create_rl_dataset` / `create_rl_sampler` load the parquet and srpo's curriculum sampler from
   `data.sampler.class_path`, a `StatefulDataLoader` walks two epochs, each batch repeated per
   sample (`DataProto.repeat`), scored by the reward manager, and handed to `sampler.update`;
3. the catalog holds every response, epoch 1 is epoch 0 minus the solved problems, and
   `srpo-curate query --next-epoch` answers for the run.
No Ray workers, no rollout engine: responses are made up (so every check is exact). Prints
`key: value` lines; exits non-zero on a failed check.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _smoke import check, say

SAMPLES = 4
RESPONSE_LEN = 48
HELLO = {"type": "stdio", "cases": [{"input": "", "output": "hello\n"}]}
ROWS = [
    *({"id": f"seven{i}", "question": q, "answer": "7"}
      for i, q in enumerate(("What is 3 + 4?", "What is 10 - 3?", "What is 14 / 2?", "What is 1 + 6?"))),
    {"id": "eight0", "question": "What is 4 + 4?", "answer": "8"},
    {"id": "eight1", "question": "What is 2 * 4?", "answer": "8"},
    {"id": "coin", "question": "Flip a coin and answer 7 or 8.", "answer": "7"},
    {"id": "code", "domain": "code", "question": "Print hello.", "tests": HELLO},
]  # fmt: skip


def response(name: str, sample: int) -> str:
    """The made-up response: seven* always right, eight* always wrong, coin and code mixed."""
    if name == "code":
        return "```python\nprint('hello')\n```" if sample % 2 == 0 else "```python\nprint('bye')\n```"
    if name == "coin":
        return "\\boxed{7}" if sample % 2 == 0 else "\\boxed{8}"
    return "The answer is \\boxed{7}."


def make_catalog(root: Path) -> tuple[Path, dict[str, str]]:
    from srpo.catalog import Catalog
    from srpo.curate.ingest import IngestOptions, ingest

    source = root / "toy.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    catalog = Catalog.open(root / "catalog.duckdb", create=True)
    ingest(catalog, IngestOptions(location=str(source)))
    with catalog.writer() as con:
        con.execute("UPDATE problems SET verify_status = 'verified'")
        names = dict(con.execute("SELECT problem_id, source_index FROM problems").fetchall())
    return catalog.path, names


def curate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "srpo.cli.curate", *args], capture_output=True, text=True)


def data_config(parquet: Path, catalog: Path):
    from omegaconf import OmegaConf

    return OmegaConf.create(
        {
            "train_files": [str(parquet)], "prompt_key": "prompt", "max_prompt_length": 512,
            "max_response_length": RESPONSE_LEN, "filter_overlong_prompts": False, "truncation": "error",
            "return_raw_chat": False, "shuffle": False, "dataloader_num_workers": 0,
            "custom_cls": {"path": None, "name": None}, "datagen": {"path": None, "name": None},
            "sampler": {
                "class_path": "pkg://srpo.integrations.verl", "class_name": "HistoryResamplingSampler",
                "catalog": str(catalog), "run_id": "verl-smoke", "set": ["data.include_unrated=true"],
            },
        }
    )  # fmt: skip


def _left_padded(rows: list[list[int]], pad: int):
    import torch

    width = max(len(row) for row in rows)
    ids = torch.tensor([[pad] * (width - len(row)) + row for row in rows])
    mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows])
    return ids, mask


def with_responses(batch, tokenizer, names):
    """Prompt ids (the dataset's chat messages through the tokenizer's template; verl 0.7 leaves
    tokenizing to its agent loop) and made-up responses for a repeated batch (sample = position
    within its group), as the rollout would hand them to the reward manager."""
    import torch

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    texts = [
        tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
        for messages in batch.non_tensor_batch["raw_prompt"]
    ]
    prompt_ids, prompt_mask = _left_padded(
        [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts], pad
    )
    rows, masks = [], []
    for index, info in enumerate(batch.non_tensor_batch["extra_info"]):
        ids = tokenizer(response(names[info["problem_id"]], index % SAMPLES), add_special_tokens=False)[
            "input_ids"
        ]
        ids = [*ids, tokenizer.eos_token_id][:RESPONSE_LEN]
        rows.append(ids + [pad] * (RESPONSE_LEN - len(ids)))
        masks.append([1] * len(ids) + [0] * (RESPONSE_LEN - len(ids)))
    responses, mask = torch.tensor(rows), torch.tensor(masks)
    tensors = {"prompts": prompt_ids, "responses": responses, "response_mask": mask,
               "attention_mask": torch.cat([prompt_mask, mask], dim=-1)}  # fmt: skip
    for key, value in tensors.items():
        batch.batch[key] = value
    return batch


def main() -> None:
    import numpy as np
    import verl
    from omegaconf import OmegaConf
    from torchdata.stateful_dataloader import StatefulDataLoader
    from transformers import AutoTokenizer
    from verl import DataProto
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler
    from verl.trainer.main_ppo import create_rl_dataset, create_rl_sampler
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils.dataset.rl_dataset import collate_fn
    from verl.workers.reward_manager.naive import NaiveRewardManager

    from srpo.testing.tiny_model import build_tiny_model

    say("verl", verl.__version__)
    root = Path(tempfile.mkdtemp(prefix="srpo-verl-smoke-"))
    catalog, names = make_catalog(root)
    parquet = root / "train.parquet"
    exported = curate("query", "--catalog", str(catalog), "--export", "verl", "-o", str(parquet))
    check(exported.returncode == 0, f"srpo-curate query --export verl ({exported.stderr.strip()[-200:]})")
    tokenizer = AutoTokenizer.from_pretrained(build_tiny_model(root / "model"))

    function = {"path": "pkg://srpo.integrations.verl", "name": "compute_score",
                "reward_kwargs": {"grader": {"workers": 2}}}  # fmt: skip
    # verl 0.7 reads reward.custom_reward_function; earlier versions custom_reward_function.
    reward_config = OmegaConf.create(
        {"custom_reward_function": function, "reward": {"custom_reward_function": function}}
    )
    manager = NaiveRewardManager(
        tokenizer=tokenizer, num_examine=0, compute_score=get_custom_reward_fn(reward_config)
    )
    config = data_config(parquet, catalog)
    dataset = create_rl_dataset(config.train_files, config, tokenizer, None, is_train=True)
    sampler = create_rl_sampler(config, dataset)
    check(
        isinstance(sampler, AbstractCurriculumSampler), "srpo's sampler is verl's AbstractCurriculumSampler"
    )
    loader = StatefulDataLoader(dataset=dataset, batch_size=2, num_workers=0, drop_last=True,
                                collate_fn=collate_fn, sampler=sampler)  # fmt: skip

    seen: dict[int, list[str]] = defaultdict(list)
    graded = 0
    started = time.perf_counter()
    for epoch in range(2):
        for batch_dict in loader:
            batch = DataProto.from_single_dict(batch_dict).repeat(repeat_times=SAMPLES, interleave=True)
            batch = with_responses(batch, tokenizer, names)
            result = manager(batch, return_dict=True)
            scores = result["reward_tensor"].sum(-1).tolist()
            statuses = result["reward_extra_info"]["status"]
            for index, info in enumerate(batch.non_tensor_batch["extra_info"]):
                name = names[info["problem_id"]]
                right = name.startswith("seven") or (name in ("coin", "code") and index % SAMPLES % 2 == 0)
                if scores[index] != float(right) or statuses[index] != ("correct" if right else "wrong"):
                    check(
                        False, f"reward of {name} sample {index % SAMPLES}: {scores[index]} {statuses[index]}"
                    )
            graded += len(batch)
            batch.batch["token_level_scores"] = result["reward_tensor"]
            batch.non_tensor_batch.update({k: np.array(v) for k, v in result["reward_extra_info"].items()})
            sampler.update(batch=batch)
            seen[epoch].extend(names[info["problem_id"]] for info in batch_dict["extra_info"])
    elapsed = time.perf_counter() - started
    check(True, f"verl's NaiveRewardManager gave srpo's reward to all {graded} responses")
    say("responses graded and recorded per second", f"{graded / elapsed:.1f}")
    check(sorted(seen[0]) == sorted(names.values()), f"epoch 0 walks every problem ({sorted(seen[0])})")
    unsolved = sorted(n for n in names.values() if not n.startswith("seven"))
    check(sorted(seen[1]) == unsolved, f"epoch 1 drops the solved problems ({sorted(seen[1])})")

    from srpo.catalog import Catalog

    with Catalog.open(catalog).reader() as con:
        counts = dict(
            con.execute(
                "SELECT epoch, count(*) FROM rollouts WHERE run_id = 'verl-smoke' GROUP BY 1"
            ).fetchall()
        )
    check(counts == {0: 8 * SAMPLES, 1: 4 * SAMPLES}, f"every response is in the catalog ({counts})")
    shown = curate("query", "--catalog", str(catalog), "--next-epoch", "verl-smoke", "-f", "jsonl")
    ids = sorted(names[json.loads(line)["problem_id"]] for line in shown.stdout.splitlines())
    check(shown.returncode == 0 and ids == unsolved, f"srpo-curate query --next-epoch answers ({ids})")
    say("next epoch", shown.stderr.strip().splitlines()[-1] if shown.stderr.strip() else "")


if __name__ == "__main__":
    main()
