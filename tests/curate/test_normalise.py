"""The normaliser: formatting noise out, maths and code intact, every change recorded."""

from __future__ import annotations

from srpo.catalog.records import Problem
from srpo.curate.normalise import CODE_REWRITES, MATH_REWRITES, Normalise, normalise_text


def test_math_noise_is_removed_and_the_maths_kept():
    text = ("**Problem 3.**   Let $x$ be <b>positive</b> &amp; see https://aops.com/x?y=1 .\n\n\n\n"
            "\\noindent Find $x^2 + \\frac{1}{2}$.  ![](https://cdn/img.png)")  # fmt: skip
    cleaned, changed = normalise_text(text, MATH_REWRITES)
    assert cleaned == "Let $x$ be positive & see .\n\nFind $x^2 + \\frac{1}{2}$."
    assert changed == ["images", "urls", "html", "entities", "label", "latex_layout", "whitespace"]
    assert normalise_text("Find **all** real $x$.", MATH_REWRITES) == ("Find all real $x$.", ["markdown"])


def test_labels_and_inequalities():
    assert normalise_text("Question: Janet has 3 apples.", MATH_REWRITES)[0] == "Janet has 3 apples."
    assert normalise_text("Example 12a) Solve it.", MATH_REWRITES)[0] == "Solve it."
    text = "If $a<b$ and $c>d$ then $x < y > z$"
    assert normalise_text(text, MATH_REWRITES) == (text, [])  # "<b" and "<y >" are not HTML


def test_code_keeps_fenced_blocks_and_indentation():
    text = "Read n.   \n```python\ndef f(x):\n    return  x  \n```\n\n\n\nOutput it.<br>See http://x.org"
    cleaned, changed = normalise_text(text, CODE_REWRITES)
    assert "```python\ndef f(x):\n    return  x  \n```" in cleaned
    assert cleaned.endswith("Output it.\nSee")
    assert "whitespace" in changed and "urls" in changed


def test_stage_records_the_raw_question_and_skips_completion_prompts():
    math = Problem(
        source="s", split="t", source_index="1", domain="math", row_hash="", question="Q:  What is 2+2?"
    )
    prompt = 'def add(a, b):\n    """Add  two   numbers."""\n'
    humaneval = Problem(source="s", split="t", source_index="2", domain="code", row_hash="", question=prompt,
                        metadata={"completion_style": True})  # fmt: skip
    Normalise().apply([math, humaneval])
    assert math.question == "What is 2+2?"
    assert math.metadata == {"question_raw": "Q:  What is 2+2?", "normalised": ["label"]}
    assert humaneval.question == prompt and "normalised" not in humaneval.metadata
