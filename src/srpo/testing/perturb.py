"""Light perturbations of problem text, for testing duplicate and contamination detection.

Each keeps the problem the same problem (same numbers, same maths) while changing its surface:
whitespace, punctuation, LaTeX spacing, or one word. Deterministic, so tests and benchmarks can
rely on exactly what was changed.
"""

from __future__ import annotations

import random
import re

SYNONYMS = {
    "find": "determine", "determine": "find", "compute": "calculate", "calculate": "compute",
    "what": "which", "number": "count", "largest": "greatest", "greatest": "largest",
    "smallest": "least", "least": "smallest", "positive": "strictly positive", "value": "quantity",
    "many": "many distinct", "sum": "total", "the": "this",
}  # fmt: skip
_WORD = re.compile(r"\b[a-zA-Z]+\b")


def whitespace(text: str) -> str:
    return "  ".join(text.split(" ")).replace(". ", ".\n")


def _outside_maths(text: str, change) -> str:
    return "".join(part if part.startswith("$") else change(part) for part in re.split(r"(\$[^$]*\$)", text))


def punctuation(text: str) -> str:
    stripped = text.rstrip(" ?.")
    if text.rstrip().endswith("?"):
        return stripped + " ?"
    return _outside_maths(stripped, lambda part: part.replace(", ", " , "))


def latex_spacing(text: str) -> str:
    return re.sub(r"([=+<>])", r" \1 ", text).replace("$", "$\\,", 1)


def one_word(text: str) -> str:
    """Swap the first word that has a synonym (outside $...$ maths)."""
    parts = re.split(r"(\$[^$]*\$)", text)
    for index, part in enumerate(parts):
        if part.startswith("$"):
            continue
        for match in _WORD.finditer(part):
            replacement = SYNONYMS.get(match.group(0).lower())
            if replacement:
                if match.group(0)[0].isupper():
                    replacement = replacement.capitalize()
                parts[index] = part[: match.start()] + replacement + part[match.end() :]
                return "".join(parts)
    return text + " Explain briefly."


PERTURBATIONS = (whitespace, punctuation, latex_spacing, one_word)


def perturb(text: str, seed: int) -> str:
    """One or two of the perturbations above, chosen by `seed`."""
    rng = random.Random(seed)
    chosen = rng.sample(PERTURBATIONS, k=rng.choice((1, 2)))
    for change in chosen:
        text = change(text)
    return text
