"""Build the labelled grading sets under tests/data/ from the shared golds.

    python bench/make_grading_sets.py [--data ../shared/data] [--out tests/data]

(`--data` defaults to $SRPO_SHARED_DATA, else ../shared/data next to the repository.)

Writes two JSONL files (deterministic: the same inputs give the same files):

- `math_labelled.jsonl`: gold/response pairs from MATH-500, GSM8K, AIME 2024/2025 and AMC 2023
  golds. Each gold gets responses with the answer in equivalent forms (label true: spacing,
  `\\dfrac`, thousands separators, units / degrees / currency around the number, decimals,
  reordered sets, inequalities for intervals, `x = ...`, sympy's expanded or factored form...)
  and close wrong ones (label false: off by one, reciprocal, swapped tuple, set for a tuple,
  open for closed interval, a missing or extra element, a changed coefficient, an equation
  whose left side is not the gold...). Fields: source, gold, response, label, type, form.
- `math_adversarial.jsonl`: reward-hacking and pathological responses that must all get
  reward 0 (empty box, several candidates, `\\pm`, a true-looking equation, huge numbers,
  deep nesting, unclosed boxes, precision traps...). Fields: gold, response, form.

Labels come from how a variant is built, never from a grader. Forms built with sympy (expand,
factor, adding 1) are used only for golds whose sympy reading prints back to the same value.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from grading_cases import HANDWRITTEN, adversarial_cases  # noqa: E402
from grading_variants import answer_type, variants  # noqa: E402
from srpo.verify.math.boxed import top_level_boxes  # noqa: E402

SEED = 4
BODY_CHARS = 400


# ------------------------------------------------------------------------------------ reading


def read_golds(data: Path) -> list[dict]:
    """(source, question, gold, body) rows from the shared datasets."""
    rows = []
    for line in (data / "math" / "math500_test.jsonl").open():
        row = json.loads(line)
        rows.append(
            {
                "source": "math500",
                "gold": row["answer"],
                "body": unbox(row["solution"]),
                "id": row["unique_id"],
            }
        )
    rng = random.Random(SEED)
    gsm = [json.loads(line) for line in (data / "gsm8k" / "test.jsonl").open()]
    for row in rng.sample(gsm, 60):
        worked, _, final = row["answer"].rpartition("####")
        body = re.sub(r"<<[^<>]*>>", "", worked).strip()
        rows.append({"source": "gsm8k", "gold": final.strip().replace(",", ""), "body": body, "id": None})
    for name in ("qwq_aime24", "qwq_aime25"):
        for i, line in enumerate((data / "aime_amc" / f"{name}.jsonl").open()):
            row = json.loads(line)
            rows.append({"source": name, "gold": str(row["answer"]), "body": GENERIC_BODY, "id": i})
    for i, line in enumerate((data / "aime_amc" / "qwen25math_amc23.jsonl").open()):
        row = json.loads(line)
        value = row["answer"]
        gold = str(int(value)) if float(value).is_integer() else str(value)
        rows.append({"source": "amc23", "gold": gold, "body": GENERIC_BODY, "id": i})
    return rows


GENERIC_BODY = (
    "Let me set up the problem. Write the given quantities as equations and simplify step by "
    "step: substituting the known values gives a linear relation, and checking small cases "
    "confirms the pattern $a_n = 2a_{n-1} + 1$ with $a_1 = 1$."
)


def unbox(solution: str) -> str:
    """A reference solution with its boxes opened, as reasoning text before a final answer."""
    for box in reversed(top_level_boxes(solution)):
        if box.content is not None:
            solution = solution[: box.start] + box.content + solution[box.end :]
    return solution[:BODY_CHARS]


# -------------------------------------------------------------------------------- answer type


def response(body: str, answer: str, style: int) -> str:
    if style == 0:
        return f"{body}\n\nTherefore, the final answer is $\\boxed{{{answer}}}$."
    if style == 1:
        return f"{body}\n\nSo we get\n\\[\n\\boxed{{{answer}}}\n\\]"
    if style == 2:
        return f"{body}\n\nThe final answer is ${answer}$."
    if style == 3:
        second = f"but checking again gives \\fbox{{{answer}}}."
        return f"{body}\n\nA first guess was $\\boxed{{0}}$, {second}"
    return f"{body}\n\n**Final Answer**\n\\boxed{{{answer}}}"


def handwritten_pairs() -> list[dict]:
    return [
        {"source": "handwritten", "gold": gold, "response": response(GENERIC_BODY, answer, i % 5),
         "label": label, "type": kind, "form": form}
        for i, (kind, gold, answer, label, form) in enumerate(HANDWRITTEN)
    ]  # fmt: skip


def labelled_set(rows: list[dict], per_type_cap: int) -> list[dict]:
    rng = random.Random(SEED)
    text_golds = [r["gold"] for r in rows if answer_type(r["gold"]) == "text"]
    by_type: dict[str, list[dict]] = {}
    for row in rows:
        kind = answer_type(row["gold"])
        for index, (form, answer, label) in enumerate(variants(row, kind, text_golds)):
            if answer is None or "\n" in answer:
                continue
            by_type.setdefault(kind, []).append(
                {
                    "source": row["source"],
                    "gold": row["gold"],
                    "response": response(row["body"], answer, (index + len(row["gold"])) % 5),
                    "label": label,
                    "type": kind,
                    "form": form,
                }
            )
    chosen = []
    for kind in sorted(by_type):
        pairs = by_type[kind]
        rng.shuffle(pairs)
        chosen.extend(sorted(pairs[:per_type_cap], key=lambda p: (p["source"], p["gold"], p["form"])))
    return chosen


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("SRPO_SHARED_DATA", ROOT.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=Path(default_data))
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("--per-type", type=int, default=120, help="At most this many pairs per answer type.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    labelled = labelled_set(read_golds(args.data), args.per_type) + handwritten_pairs()
    write_jsonl(args.out / "math_labelled.jsonl", labelled)
    adversarial = adversarial_cases()
    write_jsonl(args.out / "math_adversarial.jsonl", adversarial)
    kinds: dict[str, list[int]] = {}
    for pair in labelled:
        kinds.setdefault(pair["type"], [0, 0])[0 if pair["label"] else 1] += 1
    for kind, (good, bad) in sorted(kinds.items()):
        print(f"type {kind}: {good} correct, {bad} wrong")
    print(f"labelled pairs: {len(labelled)}; adversarial responses: {len(adversarial)}")


if __name__ == "__main__":
    main()
