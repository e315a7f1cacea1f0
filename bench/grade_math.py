"""Math grading: srpo's grade path against a plain math-verify loop, for speed and accuracy.

    python bench/grade_math.py [--responses 5000] [--workers 2] [--rounds 5] [--passes 4] [--speed-only]

Accuracy: both graders on the labelled set (tests/data/math_labelled.jsonl, built by
bench/make_grading_sets.py), per answer type, and on the reward-hacking set.
Speed: the same N responses, synthesised from the shared golds (MATH train and test, GSM8K;
each response is the reference solution followed by the gold in one of the generator's
equivalent or wrong forms), graded by `grade_file` (what `srpo-curate grade` runs, JSONL in and
out) and by a sequential `math_verify.verify(parse(gold), parse(response))` loop, in alternating
rounds after a warm-up (`_common.compare`); each round grades the same responses, srpo
`--passes` times (it is several times faster: see `_common.Side.passes`).
Prints `key: value` lines; the last is `ratio grade_math: <median of the per-round srpo over
loop ratios, responses/s>`.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import grading_variants  # noqa: E402
import make_grading_sets as sets  # noqa: E402
from _common import Side, compare, rounds_argument  # noqa: E402
from srpo.verify.config import GraderConfig  # noqa: E402
from srpo.verify.grade_file import GradeFileOptions, grade_file  # noqa: E402
from srpo.verify.grading import GradeItem, Grader  # noqa: E402
from srpo.verify.math.boxed import last_boxed  # noqa: E402

DATA = ROOT / "tests" / "data"
SYMPY_KINDS = {"radical", "constant", "expression"}


def read_rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).open(encoding="utf-8")]


# ------------------------------------------------------------------------------- synthesis


def shared_golds(data: Path) -> list[dict]:
    rows = []
    for path in sorted(glob.glob(str(data / "math" / "hendrycks_math" / "*" / "*" / "*.json"))):
        solution = json.loads(Path(path).read_text())["solution"]
        gold = last_boxed(solution)
        if gold:
            rows.append({"gold": gold, "body": sets.unbox(solution + " ")[:4000]})
    for split in ("train", "test"):
        for line in (data / "gsm8k" / f"{split}.jsonl").open():
            row = json.loads(line)
            worked, _, final = row["answer"].rpartition("####")
            rows.append({"gold": final.strip().replace(",", ""), "body": worked.strip()})
    return rows


def cheap_variants(row: dict, kind: str) -> list[tuple[str, str, bool]]:
    """The generator's forms, without the sympy-printed ones (too slow for 20k golds)."""
    if kind in SYMPY_KINDS:
        gold = row["gold"]
        return [
            ("exact", gold, True),
            ("plus_one", f"{gold} + 1", False),
            ("doubled", f"2({gold})", False),
        ]
    return grading_variants.variants(row, kind, [])


def synthesise(data: Path, count: int) -> list[dict]:
    rng = random.Random(20)
    golds = shared_golds(data)
    rng.shuffle(golds)
    items = []
    for row in golds:
        try:
            options = cheap_variants(row, grading_variants.answer_type(row["gold"]))
        except Exception:  # a gold the generator cannot vary: skip it
            continue
        if not options:
            continue
        _form, answer, label = rng.choice(options)
        style = rng.randrange(5)
        items.append(
            {
                "answer": row["gold"],
                "response": sets.response(row["body"], answer, style),
                "label": label,
            }
        )
        if len(items) == count:
            break
    while len(items) < count:  # fewer golds than asked: repeat from the start
        items.append(dict(items[len(items) % len(golds)]))
    return items


# ---------------------------------------------------------------------------------- graders


def math_verify_reward(gold: str, response: str) -> bool:
    from math_verify import parse, verify

    return bool(verify(parse(f"${gold}$"), parse(response)))


def srpo_labelled(rows: list[dict], workers: int) -> list[bool]:
    with Grader(GraderConfig(workers=workers)) as grader:
        grades = grader.grade([GradeItem(response=r["response"], answer=r["gold"]) for r in rows])
    return [g.status == "correct" for g in grades]


def math_verify_isolated(rows: list[dict], timeout_s: float) -> tuple[list[bool | None], int]:
    """math-verify on hostile inputs, each in a process killed after `timeout_s` (its own
    signal timeouts cannot stop a C-level computation such as a power tower)."""
    from pebble import ProcessPool

    results: list[bool | None] = []
    hung = 0
    with ProcessPool(max_workers=1) as pool:
        futures = [
            pool.schedule(math_verify_reward, (r["gold"], r["response"]), timeout=timeout_s) for r in rows
        ]
        for future in futures:
            try:
                results.append(future.result())
            except Exception:
                results.append(None)
                hung += 1
    return results, hung


def print_accuracy(name: str, accepted: list[bool], rows: list[dict]) -> None:
    positives = sum(r["label"] for r in rows)
    found = sum(a and r["label"] for a, r in zip(accepted, rows, strict=True))
    false_pos = sum(a and not r["label"] for a, r in zip(accepted, rows, strict=True))
    right = sum(a == r["label"] for a, r in zip(accepted, rows, strict=True))
    print(f"{name} accuracy: {right / len(rows):.4f} ({right}/{len(rows)})")
    print(f"{name} recall: {found / positives:.4f} ({found}/{positives})")
    print(f"{name} false positives: {false_pos} (of {len(rows) - positives} wrong responses)")


def print_per_type(rows: list[dict], ours: list[bool], theirs: list[bool]) -> None:
    table: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for row, a, b in zip(rows, ours, theirs, strict=True):
        counts = table[row["type"]]
        if row["label"]:
            counts[0] += 1
            counts[1] += a
            counts[2] += b
        else:
            counts[3] += 1
            counts[4] += a
            counts[5] += b
    for kind, (pos, ours_found, mv_found, neg, ours_fp, mv_fp) in sorted(table.items()):
        print(
            f"type {kind}: srpo recall {ours_found}/{pos}, false positives {ours_fp}/{neg}; "
            f"math_verify recall {mv_found}/{pos}, false positives {mv_fp}/{neg}"
        )


def accuracy(workers: int) -> None:
    """Both graders on the labelled set, per answer type, and on the reward-hacking set."""
    labelled = read_rows("math_labelled.jsonl")
    print(f"labelled pairs: {len(labelled)} ({sum(r['label'] for r in labelled)} correct responses)")
    ours = srpo_labelled(labelled, workers)
    theirs = [math_verify_reward(r["gold"], r["response"]) for r in labelled]
    print_accuracy("srpo", ours, labelled)
    print_accuracy("math_verify", theirs, labelled)
    # One response in five ends "a first guess was \boxed{0}, but ... \fbox{answer}": math-verify
    # prefers \boxed and reads the guess. Its figures without those, for a fairer comparison:
    plain = [i for i, r in enumerate(labelled) if "first guess" not in r["response"]]
    print_accuracy(
        "math_verify without fbox-after-guess", [theirs[i] for i in plain], [labelled[i] for i in plain]
    )
    print_per_type(labelled, ours, theirs)

    hostile = read_rows("math_adversarial.jsonl")
    ours_hostile = srpo_labelled(hostile, workers)
    theirs_hostile, hung = math_verify_isolated(hostile, timeout_s=10.0)
    print(f"adversarial responses: {len(hostile)}")
    print(f"srpo rewarded adversarial: {sum(ours_hostile)}")
    rewarded = [r["form"] for r, ok in zip(hostile, theirs_hostile, strict=True) if ok]
    print(f"math_verify rewarded adversarial: {len(rewarded)} ({', '.join(rewarded)})")
    print(f"math_verify hung past 10 s: {hung}")


class SrpoRound:
    """`grade_file` over the round's JSONL (what `srpo-curate grade` runs): worker start-up,
    reading, grading and writing all timed."""

    def __init__(self, items: list[dict], folder: Path, workers: int) -> None:
        self.source, self.graded = folder / "in.jsonl", folder / "out.jsonl"
        self.source.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
        self.workers = workers
        self.statuses: dict[str, int] = {}

    def __call__(self) -> float:
        options = GradeFileOptions(
            input=self.source, output=self.graded, grader=GraderConfig(workers=self.workers)
        )
        started = time.perf_counter()
        report = grade_file(options)
        seconds = time.perf_counter() - started
        self.statuses = dict(report.statuses)
        return report.lines / seconds

    def accepted(self) -> list[bool]:
        return [json.loads(line)["status"] == "correct" for line in self.graded.open()]


class PeerRound:
    """The plain loop: `math_verify.verify(parse(gold), parse(response))`, one response at a time."""

    def __init__(self, items: list[dict]) -> None:
        self.items = items
        self.accepted: list[bool] = []

    def __call__(self) -> float:
        started = time.perf_counter()
        self.accepted = [math_verify_reward(i["answer"], i["response"]) for i in self.items]
        return len(self.items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_data = os.environ.get("SRPO_SHARED_DATA", ROOT.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=Path(default_data))
    parser.add_argument("--responses", type=int, default=5000, help="responses per round (default 5,000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--passes", type=int, default=4, help="srpo's passes over the responses per round")
    parser.add_argument("--speed-only", action="store_true", help="skip the accuracy sets")
    rounds_argument(parser)
    args = parser.parse_args()

    if not args.speed_only:
        accuracy(args.workers)
    items = synthesise(args.data, args.responses)
    correct = sum(i["label"] for i in items)
    print(f"per round: {len(items)} responses ({correct} correct by construction); srpo: grade_file, "
          f"{args.workers} workers, JSONL in and out; math_verify: sequential")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        ours, peer = SrpoRound(items, Path(folder), args.workers), PeerRound(items)

        def details() -> None:
            print(f"srpo statuses (last round): {ours.statuses}")
            rows = [{"label": i["label"]} for i in items]
            print_accuracy("srpo on synthesised", ours.accepted(), rows)
            print_accuracy("math_verify on synthesised", peer.accepted, rows)

        srpo = Side("srpo", ours, passes=args.passes)
        compare("grade_math", srpo, Side("math_verify", peer), rounds=args.rounds, warmup=args.warmup,
                unit="responses/s", details=details)  # fmt: skip


if __name__ == "__main__":
    main()
