"""A task family with graded difficulty for miniature RL experiments: arithmetic, in math and code.

Math problems ask "What is 7-3+5?"; the worked answer does one operation per step and rewrites
the rest, "7-3+5=4+5=9. \\boxed{9}", and srpo's real math grader reads the box. Code problems ask
"Write a program that prints 7-3+5."; a solution is one fenced python block, graded in srpo's
real sandbox by a stdio test. Code can be answered two ways: let the program compute
(`print(7-3+5)`, always right) or work it out by hand first (`# 7-3+5=4+5=9`, then
`print(9)`, right as often as the arithmetic is). A policy taught both, half and half, has
something to learn from the reward in code too. Expressions have no spaces: fewer tokens.

Every problem takes several steps, each step one of about five hundred facts (sums and
differences of digits, products of digits, a product plus a digit), which the base policy is
taught on their own (`facts`); held-out problems are new compositions of known facts, never
bare facts. Kinds go from two-step sums (a small policy mostly gets them right) through longer
chains (sometimes right: every step can slip) to two-digit by two-digit products (never taught,
never right), so a base policy's pass rates spread over easy, medium and hard.

`ArithmeticSplits` draws disjoint sets by question text: one for supervised fine-tuning, one
for RL training, one held out for evaluation (math and code), never trained on.

Covers: the problems, their worked answers, JSONL rows for `srpo-curate ingest`, the splits.
Does not cover: building or teaching the model (`arithmetic_policy`), training (`srpo.train`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# One operation per worked step; the code prefix and suffix frame one python block.
CODE_FENCE = "```python\n"
CODE_END = "\n```"


@dataclass(frozen=True, slots=True)
class ArithmeticProblem:
    """One problem of the family, with its gold answer and a worked answer."""

    kind: str
    """Which generator made it (`sum_3`, `long_product`, ...; `fact_*` for the facts)."""
    domain: str
    """`math` (answer in a box) or `code` (a program that prints the answer)."""
    expression: str
    """The arithmetic, as written in the question and in a program: `7-3+5`."""
    value: int
    """Its value (the gold answer; what the program must print)."""
    steps: tuple[str, ...]
    """The worked steps, one operation each, the rest rewritten: `7-3+5` -> ("4+5", "9")."""

    @property
    def question(self) -> str:
        if self.domain == "math":
            return f"What is {self.expression}?"
        return f"Write a program that prints {self.expression}."

    def worked_answer(self, *, by_hand: bool = False) -> str:
        """The taught response. Math: the steps, then the box. Code: a program that computes
        the expression, or (`by_hand`) the steps as a comment and the value printed."""
        worked = "=".join((self.expression, *self.steps))
        if self.domain == "math":
            return f"{worked}. \\boxed{{{self.value}}}"
        if by_hand:
            return f"{CODE_FENCE}# {worked}\nprint({self.value}){CODE_END}"
        return f"{CODE_FENCE}print({self.expression}){CODE_END}"

    def row(self, index: str) -> dict:
        """A row for `srpo-curate ingest` (the generic adapter)."""
        row: dict = {"id": index, "domain": self.domain, "question": self.question,
                     "metadata": {"kind": self.kind}}  # fmt: skip
        if self.domain == "math":
            row["answer"] = str(self.value)
        else:
            row["solution"] = f"print({self.expression})"
            row["tests"] = {"type": "stdio", "cases": [{"input": "", "output": f"{self.value}\n"}]}
        return row


Maker = Callable[[random.Random], tuple[str, int, tuple[str, ...]]]


def _rewrites(first: int, terms: Sequence[tuple[str, int]]) -> tuple[int, tuple[str, ...]]:
    """Left to right, one operation per step, each step the rest of the expression rewritten:
    `4-1+4-7` -> ("3+4-7", "7-7", "0"). The next operation always sits at the start of the
    last rewrite, so a small model need not hunt for it in the question."""
    value, steps = first, []
    for index, (op, right) in enumerate(terms):
        value = {"+": value + right, "-": value - right, "*": value * right}[op]
        steps.append(str(value) + "".join(f"{o}{r}" for o, r in terms[index + 1 :]))
    return value, tuple(steps)


def _chain(steps: int) -> Maker:
    """`steps` additions and subtractions of one-digit numbers, every running value a digit
    from 0 to 9: each step is one of a hundred facts, and every step can slip."""

    def make(rng: random.Random) -> tuple[str, int, tuple[str, ...]]:
        first = value = rng.randint(1, 9)
        terms = []
        for _ in range(steps):
            op = "-" if value == 9 or (value > 0 and rng.random() < 0.5) else "+"
            right = rng.randint(1, value) if op == "-" else rng.randint(1, 9 - value)
            value = value - right if op == "-" else value + right
            terms.append((op, right))
        total, done = _rewrites(first, terms)
        return str(first) + "".join(f"{o}{r}" for o, r in terms), total, done

    return make


def _product(low: int, high: int, *, plus: bool = False) -> Maker:
    """`a*b` (then `+c` with `plus`) with a and b from low to high."""

    def make(rng: random.Random) -> tuple[str, int, tuple[str, ...]]:
        a, b = rng.randint(low, high), rng.randint(low, high)
        terms = [("*", b)] + ([("+", rng.randint(1, 9))] if plus else [])
        total, done = _rewrites(a, terms)
        return str(a) + "".join(f"{o}{r}" for o, r in terms), total, done

    return make


# Every problem takes two steps or more, so none is a bare fact (the facts are taught on their
# own, `facts`); roughly easiest to hardest for a small policy: sums of two, three, four and six
# steps (each step can slip), a product plus a digit (a two-digit sum), and two-digit products,
# which it is never taught.
KINDS: dict[str, Maker] = {
    "sum_2": _chain(2),
    "sum_3": _chain(3),
    "sum_4": _chain(4),
    "sum_6": _chain(6),
    "product_plus": _product(1, 9, plus=True),
    "long_product": _product(12, 99),
}


def make_problem(kind: str, domain: str, rng: random.Random) -> ArithmeticProblem:
    expression, value, steps = KINDS[kind](rng)
    return ArithmeticProblem(kind=kind, domain=domain, expression=expression, value=value, steps=steps)


def _fact(kind: str, left: int, op: str, right: int) -> ArithmeticProblem:
    value, steps = _rewrites(left, [(op, right)])
    return ArithmeticProblem(kind=kind, domain="math", expression=f"{left}{op}{right}", value=value, steps=steps)


def facts() -> list[ArithmeticProblem]:
    """Every one-step fact the problems' steps use, each as a one-step math problem: sums and
    differences of digits that stay digits (0 included), products of digits, and such a product
    plus a digit. The base policy is taught all of them; none is a problem of `KINDS`."""
    found = []
    for a in range(10):
        found += [_fact("fact_sum", a, "+", b) for b in range(1, 10 - a)]
        found += [_fact("fact_sum", a, "-", b) for b in range(1, a + 1)]
    found += [_fact("fact_product", a, "*", b) for a in range(1, 10) for b in range(1, 10)]
    products = sorted({a * b for a in range(1, 10) for b in range(1, 10)})
    found += [_fact("fact_plus", p, "+", c) for p in products for c in range(1, 10)]
    unique: dict[str, ArithmeticProblem] = {}
    for problem in found:  # a small product plus a digit is also a sum of digits: once
        unique.setdefault(problem.expression, problem)
    return list(unique.values())


@dataclass(frozen=True, kw_only=True)
class SplitSizes:
    """How many problems each split gets (spread evenly over the kinds)."""

    sft_math: int = 2000
    """Math problems the base policy is fine-tuned on (besides the facts)."""
    sft_code: int = 1000
    """Code problems it is fine-tuned on (each taught one way: computed or by hand)."""
    train_math: int = 140
    """Math problems for RL (ingested, rated, trained on)."""
    train_code: int = 70
    """Code problems for RL stage 2."""
    heldout_math: int = 140
    """Math problems never trained on: the held-out evaluation."""
    heldout_code: int = 70
    """Code problems never trained on."""
    kinds: tuple[str, ...] = tuple(KINDS)
    """The kinds every split draws from, in equal shares."""


@dataclass(frozen=True, slots=True)
class ArithmeticSplits:
    """Disjoint problem sets: no question appears in two of them."""

    sft: list[ArithmeticProblem] = field(default_factory=list)
    train: list[ArithmeticProblem] = field(default_factory=list)
    heldout_math: list[ArithmeticProblem] = field(default_factory=list)
    heldout_code: list[ArithmeticProblem] = field(default_factory=list)

    def by_name(self) -> dict[str, list[ArithmeticProblem]]:
        return {"sft": self.sft, "train": self.train, "heldout_math": self.heldout_math,
                "heldout_code": self.heldout_code}  # fmt: skip


def _draw(
    count: int,
    domain: str,
    kinds: Sequence[str],
    rng: random.Random,
    taken: set[str],
    *,
    distinct: bool = True,
) -> list[ArithmeticProblem]:
    """`count` problems spread evenly over `kinds`, none whose expression is in `taken` (the
    same arithmetic as a math question and as a code task counts as one). `distinct` draws each
    expression once and adds it to `taken`; otherwise repeats are allowed (fine-tuning data)."""
    found: list[ArithmeticProblem] = []
    drawn: set[str] = set()
    for index in range(count):
        kind = kinds[index % len(kinds)]
        for _ in range(1000):
            problem = make_problem(kind, domain, rng)
            if problem.expression not in taken:
                break
        else:  # the kind has run out of fresh expressions
            raise ValueError(f"kind {kind}: cannot draw {count // len(kinds)} distinct problems")
        drawn.add(problem.expression)
        if distinct:
            taken.add(problem.expression)
        found.append(problem)
    rng.shuffle(found)
    return found


def make_splits(sizes: SplitSizes | None = None, *, seed: int = 0) -> ArithmeticSplits:
    """Draw the held-out sets first, then training, then fine-tuning, each avoiding every
    expression drawn before it, so no held-out arithmetic is ever taught or trained on, and
    no RL training problem is taught either. Fine-tuning may repeat a problem (the one-digit
    kinds have only a few dozen)."""
    sizes = sizes or SplitSizes()
    rng = random.Random(seed)
    taken: set[str] = set()
    kinds = sizes.kinds
    heldout_math = _draw(sizes.heldout_math, "math", kinds, rng, taken)
    heldout_code = _draw(sizes.heldout_code, "code", kinds, rng, taken)
    train = _draw(sizes.train_math, "math", kinds, rng, taken) + _draw(
        sizes.train_code, "code", kinds, rng, taken
    )
    sft = _draw(sizes.sft_math, "math", kinds, rng, taken, distinct=False)
    sft += _draw(sizes.sft_code, "code", kinds, rng, taken, distinct=False)
    rng.shuffle(sft)
    return ArithmeticSplits(sft=sft, train=train, heldout_math=heldout_math, heldout_code=heldout_code)


def write_rows(path, problems: Iterable[ArithmeticProblem], *, prefix: str) -> int:
    """Write problems as JSONL rows for `srpo-curate ingest`; returns how many."""
    lines = [json.dumps(p.row(f"{prefix}{i}")) for i, p in enumerate(problems)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def taught_pairs(
    problems: Iterable[ArithmeticProblem], *, by_hand_share: float = 0.5, seed: int = 0
) -> list[tuple[ArithmeticProblem, str]]:
    """(problem, worked answer) for fine-tuning; a `by_hand_share` of code problems is taught
    the by-hand way, the rest the computed way."""
    rng = random.Random(seed)
    return [
        (p, p.worked_answer(by_hand=p.domain == "code" and rng.random() < by_hand_share)) for p in problems
    ]
