"""Each adapter on small inline rows shaped like its public dataset, and auto-detection."""

from __future__ import annotations

import json

import pytest

from srpo.catalog.testspec import AssertTests, CallTests, StdioTests
from srpo.curate.adapters import detect_adapter, get_adapter
from srpo.errors import InputError, RowError


def convert(adapter: str, row: dict):
    return get_adapter(adapter).convert(row)


def detected(rows: list[dict], file_name: str = "data.jsonl") -> str:
    return detect_adapter(rows, file_name)[0].name


# --------------------------------------------------------------------------------------- math

GSM8K_ROW = {
    "question": "Tom has 3 boxes of 1,200 pens. How many pens?",
    "answer": "He has 3 * 1200 = <<3*1200=3600>>3600 pens.\n#### 3,600",
}


def test_gsm8k_splits_final_answer_and_strips_calculator_notes():
    draft = convert("gsm8k", GSM8K_ROW)
    assert draft.domain == "math"
    assert draft.answer == "3600"
    assert draft.solution == "He has 3 * 1200 = 3600 pens."
    assert draft.metadata["calculator_annotations_removed"] == 1
    assert detected([GSM8K_ROW]) == "gsm8k"


def test_gsm8k_without_final_line_is_a_row_error():
    with pytest.raises(RowError) as error:
        convert("gsm8k", {"question": "q", "answer": "no marker"})
    assert error.value.field == "answer"


HENDRYCKS_ROW = {
    "problem": "What is $\\frac{1}{2}+\\frac{1}{3}$?",
    "level": "Level 2",
    "type": "Prealgebra",
    "solution": "We get $\\frac{3}{6}+\\frac{2}{6}=\\boxed{\\frac{5}{6}}$.",
}


def test_math_takes_the_last_boxed_answer_of_the_solution():
    draft = convert("math", HENDRYCKS_ROW)
    assert draft.answer == "\\frac{5}{6}"
    assert draft.metadata == {"answer_from": "solution_boxed", "level": 2, "subject": "Prealgebra"}
    assert detected([HENDRYCKS_ROW], "0.json") == "math"


def test_math_keeps_unknown_level_raw():
    draft = convert("math", {**HENDRYCKS_ROW, "level": "Level ?"})
    assert draft.metadata["level"] is None
    assert draft.metadata["level_raw"] == "Level ?"


MATH500_ROW = {
    "problem": "Convert $(0,3)$ to polar coordinates.",
    "solution": "So $\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$.",
    "answer": "\\left( 3, \\frac{\\pi}{2} \\right)",
    "subject": "Precalculus",
    "level": 2,
    "unique_id": "test/precalculus/807.json",
}


def test_math500_uses_unique_id_for_index_and_split():
    draft = convert("math500", MATH500_ROW)
    assert draft.answer == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert draft.source_index == "test/precalculus/807.json"
    assert draft.split == "test"
    assert draft.metadata["level"] == 2
    assert detected([MATH500_ROW]) == "math500"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(204, "204"), ("025", "25"), (27.0, "27"), ("4.5", "4.5"), ("\\frac{1}{2}", "\\frac{1}{2}")],
)
def test_aime_answers_are_plain_integers_when_integral(raw, expected):
    draft = convert("aime", {"problem": "Find it.", "answer": raw, "year": 2024, "problem_number": 3})
    assert draft.answer == expected


def test_aime_strips_baked_in_instruction_from_prompt():
    row = {
        "prompt": "Find $x$.\nPlease reason step by step, and put your final answer within \\boxed{}.",
        "answer": 70,
    }
    draft = convert("aime", row)
    assert draft.question == "Find $x$."
    assert draft.metadata["instruction_removed"].startswith("Please reason")
    assert detected([row], "qwq_aime25.jsonl") == "aime"


def test_aime_detection_by_url_and_by_year():
    amc = {"problem": "p", "answer": 27.0, "url": "https://artofproblemsolving.com/wiki/2023_AMC_12A"}
    aime = {
        "problem": "p",
        "answer": "60",
        "year": 1983,
        "aime_number": 1,
        "problem_number": 1,
        "difficulty": 4.0,
    }
    assert detected([amc]) == "aime"
    assert detected([aime]) == "aime"


VERL_ROW = {
    "data_source": "deepscaler",
    "prompt": [
        {
            "role": "user",
            "content": "Compute $2+2$. Let's think step by step and output the final answer within \\boxed{}.",
        }
    ],
    "ability": "math",
    "reward_model": {"ground_truth": "4", "style": "rule"},
    "extra_info": {"difficulty": 1.5, "index": 7, "split": "train"},
    "problem_id": 7,
}


def test_deepscaler_verl_row():
    draft = convert("deepscaler", VERL_ROW)
    assert draft.question == "Compute $2+2$."
    assert draft.answer == "4"
    assert draft.split == "train"
    assert draft.metadata["source_difficulty"] == 1.5
    assert draft.metadata["source_problem_id"] == 7
    assert detected([VERL_ROW], "train.parquet") == "deepscaler"


def test_deepscaler_rllm_row_and_bad_prompt():
    draft = convert("deepscaler", {"problem": "p?", "answer": None, "difficulty": 5.0, "type": "Algebra"})
    assert draft.answer is None and draft.metadata["subject"] == "Algebra"
    with pytest.raises(RowError) as error:
        convert("deepscaler", {"prompt": 3, "ground_truth": "1"})
    assert error.value.field == "prompt"


# --------------------------------------------------------------------------------------- code

HUMANEVAL_ROW = {
    "task_id": "HumanEval/0",
    "prompt": 'def add(a, b):\n    """Add."""\n',
    "canonical_solution": "    return a + b\n",
    "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n",
    "entry_point": "add",
}


def test_humaneval_row():
    draft = convert("humaneval", HUMANEVAL_ROW)
    assert draft.domain == "code"
    assert draft.solution == HUMANEVAL_ROW["prompt"] + HUMANEVAL_ROW["canonical_solution"]
    assert draft.tests == AssertTests(code=HUMANEVAL_ROW["test"], entry_point="add")
    assert draft.source_index == "HumanEval/0"
    assert detected([HUMANEVAL_ROW]) == "humaneval"


MBPP_ROW = {
    "text": "Write a function to find the shared elements.",
    "code": "def similar_elements(a, b):\r\n  return tuple(set(a) & set(b))",
    "task_id": 2,
    "test_setup_code": "",
    "test_list": [
        "assert set(similar_elements((3, 4), (4, 5))) == set((4,))",
        "assert similar_elements((), ()) == ()",
    ],
    "challenge_test_list": [],
}


def test_mbpp_full_row():
    draft = convert("mbpp", MBPP_ROW)
    assert draft.split == "prompt"  # task ids 1-10 are MBPP's few-shot prompt split
    assert draft.solution == "def similar_elements(a, b):\n  return tuple(set(a) & set(b))"
    assert draft.metadata["entry_point"] == "similar_elements"
    assert draft.question.endswith(MBPP_ROW["test_list"][0])
    assert isinstance(draft.tests, AssertTests)
    assert all(line in draft.tests.code for line in MBPP_ROW["test_list"])
    assert detected([MBPP_ROW]) == "mbpp"


@pytest.mark.parametrize(
    ("task_id", "split"), [(11, "test"), (510, "test"), (511, "validation"), (601, "train")]
)
def test_mbpp_sanitized_split_by_task_id(task_id, split):
    row = {"prompt": "Do it.", "code": "def f(): pass", "task_id": task_id, "test_imports": ["import math"],
           "test_list": ["assert f() is None"], "source_file": "x.ipynb"}  # fmt: skip
    draft = convert("mbpp", row)
    assert draft.split == split
    assert draft.tests.code.startswith("import math\n")


def test_mbpp_test_list_as_json_text_and_wrong_type():
    draft = convert("mbpp", {**MBPP_ROW, "test_list": json.dumps(MBPP_ROW["test_list"])})
    assert MBPP_ROW["test_list"][1] in draft.tests.code
    with pytest.raises(RowError) as error:
        convert("mbpp", {**MBPP_ROW, "test_list": 5})
    assert error.value.field == "test_list"


def test_codecontests_rllm_dict_and_list_shapes():
    by_dict = convert("codecontests", {"problem": "Sum.", "tests": {"inputs": ["1 2\n"], "outputs": ["3\n"]}})
    by_list = convert("codeforces", {"problem": "Sum.", "tests": [{"input": "1 2", "output": "3"}]})
    assert by_dict.tests == StdioTests(cases=(by_dict.tests.cases[0],))
    assert by_dict.tests.cases[0].input == "1 2\n"
    assert by_list.tests.cases[0].output == "3"
    assert detected([{"problem": "Sum.", "tests": {"inputs": [], "outputs": []}}]) == "codecontests"


def test_codecontests_mismatched_cases_is_a_row_error():
    with pytest.raises(RowError) as error:
        convert("codecontests", {"problem": "p", "tests": {"inputs": ["1"], "outputs": []}})
    assert "1 inputs but 0 outputs" in str(error.value)


def test_codecontests_deepmind_shape_keeps_python3_solution_and_file_names():
    row = {
        "name": "A. Books", "description": "Sort books.", "input_file": "books.in", "output_file": "",
        "public_tests": {"input": ["1\n"], "output": ["1\n"]},
        "private_tests": {"input": ["2\n"], "output": ["2\n"]},
        "generated_tests": {"input": [], "output": []},
        "solutions": {"language": [2, 3], "solution": ["int main(){}", "print(input())"]},
        "time_limit": {"seconds": 2, "nanos": 500000000}, "cf_rating": 800,
    }  # fmt: skip
    draft = convert("codecontests", row)
    assert draft.solution == "print(input())"
    assert len(draft.tests.cases) == 2
    assert draft.metadata["input_file"] == "books.in"
    assert draft.metadata["time_limit_s"] == 2.5
    assert draft.metadata["test_counts"] == {"public_tests": 1, "private_tests": 1, "generated_tests": 0}
    assert detected([row]) == "codecontests"


LEETCODE_ROW = {
    "problem": "Please solve the programming task below using a self-contained code snippet in a markdown code block.\n\n"
    "Return the inorder traversal.\n```python\nclass Solution:\n    def inorder(self, root: Optional[TreeNode]) -> List[int]:\n```",
    "solutions": "class Solution:\n    def inorder(self, root):\n        return []\n",
    "tests": {
        "functional": "def check(candidate):\n    assert candidate(root = tree_node([])) == []\n\n\ncheck(Solution().inorder)"
    },
}


def test_leetcode_row_gets_entry_point_and_node_prelude():
    draft = convert("leetcode", LEETCODE_ROW)
    assert draft.question.startswith("Return the inorder traversal.")
    assert draft.tests.entry_point == "Solution().inorder"
    assert "check(Solution()" not in draft.tests.code
    assert "def tree_node" in draft.tests.prelude and "from typing import *" in draft.tests.prelude
    assert detected([LEETCODE_ROW]) == "leetcode"


def test_leetcode_prelude_builds_trees_level_order():
    from srpo.curate.adapters.leetcode import IMPORTS, NODE_HELPERS

    namespace: dict = {}
    exec(IMPORTS + NODE_HELPERS, namespace)  # our own helper code, run to check it
    root = namespace["tree_node"]([1, None, 2, 3])
    assert (root.val, root.left, root.right.val, root.right.left.val) == (1, None, 2, 3)
    same = namespace["is_same_list"](namespace["list_node"]([1, 2]), namespace["list_node"]([1, 2]))
    assert same and not namespace["is_same_list"](namespace["list_node"]([1]), namespace["list_node"]([1, 2]))


def test_leetcode_without_final_check_is_a_row_error():
    row = {**LEETCODE_ROW, "tests": {"functional": "def check(candidate):\n    assert True\n"}}
    with pytest.raises(RowError) as error:
        convert("leetcode", row)
    assert error.value.field == "tests"


# ------------------------------------------------------------------------------------ generic


def test_generic_math_and_code_rows():
    math = convert("generic", {"question": "1+1?", "answer": 2, "id": 9, "split": "dev"})
    assert (math.domain, math.answer, math.source_index, math.split) == ("math", "2", "9", "dev")
    code = convert(
        "generic",
        {
            "question": "f?",
            "tests": {"type": "call", "fn_name": "f", "cases": [{"args": [1], "expected": 2}]},
        },
    )
    assert code.domain == "code"
    assert isinstance(code.tests, CallTests) and code.tests.cases[0].args == (1,)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"question": 3, "answer": "1"}, "question"),
        ({"question": "q", "answer": [1]}, "answer"),
        ({"question": "q", "answer": "1", "domain": "physics"}, "domain"),
        ({"question": "q", "tests": {"type": "stdio"}}, "tests"),
        ({"question": "q", "answer": "1", "metadata": [1]}, "metadata"),
    ],
)
def test_generic_rejects_wrong_types_naming_the_field(row, field):
    with pytest.raises(RowError) as error:
        convert("generic", row)
    assert error.value.field == field


def test_detection_falls_back_to_generic_and_fails_clearly():
    assert detected([{"question": "q", "answer": "a", "extra": 1}]) == "generic"
    with pytest.raises(InputError, match="no adapter fits fields"):
        detect_adapter([{"foo": 1}], "odd.jsonl")


def test_unknown_adapter_name_lists_choices():
    with pytest.raises(InputError, match="choose one of"):
        get_adapter("nope")
    assert get_adapter("AMC").name == "aime"
