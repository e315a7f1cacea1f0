"""A task family with graded difficulty for miniature RL experiments: arithmetic, in math and code.

Math problems ask "What is 7-3+5?"; code problems ask "Write a program that prints 7-3+5.".
Either can be answered two ways, and the base policy is taught both, as a pretrained model has
seen both in its data:
- worked: math does one operation per step and rewrites the rest, "7-3+5=4+5=9. \\boxed{9}";
  code lets the program compute, a fenced `print(7-3+5)`;
- direct: the answer with no working, "\\boxed{9}", or a fenced `print(9)`: right when the
  policy can do the whole chain in its head, which a small one mostly cannot.
srpo's real math grader reads the box; code runs in srpo's real sandbox against a stdio test.

Every problem is a chain of additions and subtractions of one-digit numbers whose running
value stays a digit, so every step is one of about a hundred facts (`facts`); held-out problems
are new compositions of the same facts, never bare facts. Kinds go from two steps (`sum_2`) to
four (`sum_4`): the longer the chain, the less often a direct answer is right, and the more
chances a worked one has to slip (`slip_rate`: a taught step off by one, the rest of the
working carrying on from it, as a person's would).

Taught mostly direct answers (`direct_share`), the base policy answers directly most of the
time and is right on short chains, sometimes on longer ones, rarely on the longest. A reward on
the final answer alone can teach it to show its working: the gain RL gave reasoning models
(longer answers, higher accuracy), in miniature, in minutes.

`ArithmeticSplits` draws disjoint sets by question text: one for supervised fine-tuning, one
for RL training, one held out for evaluation (math and code), never trained on.

Covers: the problems, their worked answers, JSONL rows for `srpo-curate ingest`, the splits.
Does not cover: building or teaching the model (`arithmetic_policy`), training (`srpo.train`).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# One operation per worked step; the code prefix and suffix frame one python block.
CODE_FENCE = "```python\n"
CODE_END = "\n```"


@dataclass(frozen=True, slots=True)
class ArithmeticProblem:
    """One problem of the family, with its gold answer and a worked answer."""

    kind: str
    """Which generator made it (`sum_2` to `sum_4`; `fact_sum` for the facts)."""
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

    def worked_answer(self, *, direct: bool = False, slips: Slips | None = None) -> str:
        """The taught response. Math: the steps, then the box; code: a program that computes the
        expression. `direct`: the value alone, boxed or printed. With `slips`, a worked step may
        be off by one, and the working and the answer carry on from it."""
        if direct:
            return f"\\boxed{{{self.value}}}" if self.domain == "math" else _program(str(self.value))
        if self.domain == "code":
            return _program(self.expression)
        steps, value = self.steps, self.value
        if slips is not None:
            value, steps = slips.rework(self.expression)
        return "=".join((self.expression, *steps)) + f". \\boxed{{{value}}}"

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


def _program(printed: str) -> str:
    return f"{CODE_FENCE}print({printed}){CODE_END}"


Maker = Callable[[random.Random], tuple[str, int, tuple[str, ...]]]


def _rewrites(
    first: int, terms: Sequence[tuple[str, int]], *, nudge: Callable[[int], int] | None = None
) -> tuple[int, tuple[str, ...]]:
    """Left to right, one operation per step, each step the rest of the expression rewritten:
    `4-1+4-7` -> ("3+4-7", "7-7", "0"). The next operation always sits at the start of the
    last rewrite, so a small model need not hunt for it in the question. `nudge` may change
    each step's value (a slip); the later steps start from what it returns."""
    value, steps = first, []
    for index, (op, right) in enumerate(terms):
        value = value + right if op == "+" else value - right
        value = nudge(value) if nudge else value
        steps.append(str(value) + "".join(f"{o}{r}" for o, r in terms[index + 1 :]))
    return value, tuple(steps)


_TERM = re.compile(r"([-+])(\d+)")


@dataclass
class Slips:
    """Draws the slips of taught answers: each step is off by one with probability `rate`."""

    rate: float
    rng: random.Random

    def rework(self, expression: str) -> tuple[int, tuple[str, ...]]:
        """The value and steps of `expression` worked with slips: a slipped step is one more or
        one less than right (staying a digit), and the later steps start from it."""
        first = int(re.match(r"\d+", expression).group())
        terms = [(op, int(right)) for op, right in _TERM.findall(expression[len(str(first)) :])]
        return _rewrites(first, terms, nudge=self._slip)

    def _slip(self, value: int) -> int:
        if self.rng.random() >= self.rate:
            return value
        return value + (-1 if value >= 9 else 1 if value <= 0 else self.rng.choice((-1, 1)))


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


# Roughly easiest to hardest for a small policy: the more steps, the more chances to slip.
KINDS: dict[str, Maker] = {f"sum_{steps}": _chain(steps) for steps in (2, 3, 4)}


def make_problem(kind: str, domain: str, rng: random.Random) -> ArithmeticProblem:
    expression, value, steps = KINDS[kind](rng)
    return ArithmeticProblem(kind=kind, domain=domain, expression=expression, value=value, steps=steps)


def _fact(kind: str, left: int, op: str, right: int) -> ArithmeticProblem:
    value, steps = _rewrites(left, [(op, right)])
    expression = f"{left}{op}{right}"
    return ArithmeticProblem(kind=kind, domain="math", expression=expression, value=value, steps=steps)


def facts() -> list[ArithmeticProblem]:
    """Every one-step fact the problems' steps use, each as a one-step math problem: sums and
    differences of digits that stay digits, 0 included. None is a problem of `KINDS`."""
    found = []
    for a in range(10):
        found += [_fact("fact_sum", a, "+", b) for b in range(1, 10 - a)]
        found += [_fact("fact_sum", a, "-", b) for b in range(1, a + 1)]
    return found


@dataclass(frozen=True, kw_only=True)
class SplitSizes:
    """How many problems each split gets (spread evenly over the kinds)."""

    sft_math: int = 4000
    """Math problems the base policy is fine-tuned on (besides the facts)."""
    sft_code: int = 2000
    """Code problems it is fine-tuned on (each taught one way: computed or by hand)."""
    train_math: int = 100
    """Math problems for RL (ingested, rated, trained on)."""
    train_code: int = 50
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
    problems: Iterable[ArithmeticProblem], *, direct_share: float = 0.7, slip_rate: float = 0.0, seed: int = 0
) -> list[tuple[ArithmeticProblem, str]]:
    """(problem, taught answer) for fine-tuning: a `direct_share` of them direct, the rest
    worked, whose steps slip at `slip_rate`."""
    rng = random.Random(seed)
    slips = Slips(slip_rate, random.Random(seed + 1)) if slip_rate else None
    return [(p, p.worked_answer(direct=rng.random() < direct_share, slips=slips)) for p in problems]
