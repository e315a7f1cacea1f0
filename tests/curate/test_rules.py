"""The cleaning rules on constructed examples, including the ordinary words they must ignore.

The rules the shared data has no real positives for (proofs, file I/O, network) are shown to
work here; the labelled set (test_cleaning_eval.py) scores the others on real rows.
"""

from __future__ import annotations

import pytest

from srpo.catalog.records import Problem
from srpo.catalog.testspec import AssertTests, StdioCase, StdioTests
from srpo.curate.config import FilterConfig
from srpo.curate.rules import code as rules_code
from srpo.curate.rules import math as rules_math
from srpo.curate.rules import reasons_for


def math(question: str, answer: str = "5") -> list[str]:
    problem = Problem(
        source="t",
        split="train",
        source_index="1",
        domain="math",
        question=question,
        answer=answer,
        row_hash="",
    )
    return reasons_for(problem, FilterConfig())


def code(
    question: str, *, solution: str | None = None, tests=None, metadata: dict | None = None, config=None
) -> list[str]:
    problem = Problem(
        source="t", split="train", source_index="1", domain="code", question=question, row_hash="",
        solution=solution, tests=tests or StdioTests(cases=(StdioCase("1", "1"),)), metadata=metadata or {},
    )  # fmt: skip
    return reasons_for(problem, config or FilterConfig())


@pytest.mark.parametrize(
    "question",
    [
        "Given f(x)=x^2.\n(1) Find f(2);\n(2) Find the zeros of f.",
        "Given the sequence.\n(I) Find the general term;\n(II) Find the sum of the first n terms.",
        "Given the sequence.\n(Ⅰ) Find the general term;\n(Ⅱ) Find the sum.",
        "A clock.\n\na) How many numbers will be painted?\n\nb) How many will be red?",
        "Given vectors $a$ and $b$.  \n$(1)$ Find $\\sin 2x$.  \n$(2)$ Find the minimum of $f$.",
        "Given points \\\\(A\\\\) and \\\\(B\\\\):\n\\\\((1)\\\\) Find the distance.\n\\\\((2)\\\\) Find the midpoint.",
        "Calculate:<br/>$(1)(1\\frac{3}{4}-\\frac{3}{8})÷2$;<br/>$(2)-2^2+|-3|$.",
        "Fill in the numbers:\n\n(1) 7÷9= ___\n\n(2) 12÷7= ___",
        "Part (a): find x. Part (b): find y.",
        "A shop.\n① Find the cost function;\n② What is the minimum cost?",
    ],
)
def test_multi_part_questions(question):
    assert "math.multi_part" in math(question)


@pytest.mark.parametrize(
    "question, answer",
    [
        ("Let f(1) = 2 and f(2) = 3. Find f(3).", "4"),
        ("Which are true? ① 2>1 ② 3<1 ③ 4=4. How many are correct?", "2"),
        ("x + y = 5 (1)\nx - y = 1 (2)\nFind x.", "3"),
        ("Find a and b such that a+b=3 and a-b=1.", "(2,1)"),
        (
            "Find the largest integer $n$ satisfying the following conditions:\n(i) $n^2$ is a difference of cubes;\n(ii) $2n+79$ is a square.",
            "181",
        ),
        (
            "A marksman follows the rules:\n 1) He chooses a column from which a target is broken.\n 2) He breaks the lowest target.\n In how many orders can the targets be broken?",
            "560",
        ),
        ("Which propositions are correct? (1) A; (2) B; (3) C; (4) D. Find them.", "(1)(3)(4)"),
    ],
)
def test_not_multi_part(question, answer):
    assert "math.multi_part" not in math(question, answer)


@pytest.mark.parametrize(
    "question",
    [
        # issue 14: sub-questions numbered in other styles
        "Given the function f.\nI. Find its period.\nII. Find its maximum.",
        "Given the function f.\ni. Find its period.\nii. Find its maximum.",
        "Given the function f.\n- (I) Find its period;\n- (II) Find its maximum.",
        "Given the function f.\n（Ⅰ）Find its period;\n（Ⅱ）Find its maximum.",
        "Given the function f.\n（1）Find its period;\n（2）Find its maximum.",
        "Given the function f.\n1) Find its period.\n2) Find its maximum.",
        "Given the function f.\na. Find its period.\nb. Find its maximum.",
        "Given the function f.\n$\\bullet$ a) Find its period.\n$\\bullet$ b) Find its maximum.",
        "Five rods measure 92, 94, 103, 105, 106 mm. Find: a) the sample mean; b) the sample variance.",
        "Let $f(x) = x^2 - 4$: i) find f(3); ii) find the zeros of f.",
        "Part A: Find the period of f.\nPart B: Find the maximum of f.",
        "Part I. Find the period of f. Part II. Find the maximum of f.",
        "Part 1\nFind the period of f.\nPart 2\nFind the maximum of f.",
        "Question 1: How many ways are there? Question 2: How many of them are even?",
        "Find the value of $x$ for the following expressions.\n1. $4x^2 = 9$\n2. $(1 - 2x)^3 = 8$",
        "Four shoes are drawn. How many outcomes are there for the following results?\n(1) No pair;\n(2) One pair;\n(3) Two pairs.",
        "Convert: (1) $\\frac{\\pi}{12} =$ \\_\\_\\_\\_ ; (2) $36^{\\circ} =$ \\_\\_\\_\\_ rad.",
        "Calculate to 3 decimal places the following expressions:\n\n1.\n$$\\sqrt{2}$$\n\n2.\n$$\\sqrt{3}$$",
    ],
)
def test_multi_part_in_other_numbering_styles(question):
    assert "math.multi_part" in math(question)


@pytest.mark.parametrize(
    "question",
    [
        # issue 14's look-alikes: one ask over an enumerated list of data
        "Students answer each of these questions:\n\n$\\bullet$ a) Were you born before 1990? (Yes / No)\n\n"
        "$\\bullet$ b) What is your favourite colour? (Red / Blue)\n\nHow many answer combinations are possible?",
        "What is the least positive integer that satisfies the following conditions?\n\na) Divided by 2 the remainder is 1."
        "\n\nb) Divided by 3 the remainder is 2.",
        "There are integers with these properties:\n\n$\\bullet$ I. The sum of the squares of their digits is 50, and\n\n"
        "$\\bullet$ II. Each digit is larger than the one on its left.\n\nWhat is the product of the digits?",
        "A set is complementary if all of the following statements are true:\ni. Either all shapes differ or all agree.\n"
        "ii. Either all colours differ or all agree.\nHow many complementary sets are there?",
        "If a computer executes the following program:\n(1) Set x = 3.\n(2) Set x = x + 2.\n(3) Print x.\n\nWhat is printed?",
        "Find the smallest n that satisfies the following conditions:\n1. The units digit of n is 6.\n2. Moving 6 to the front gives 4n.",
        "The bank gives him two options.\n\n1. A ten-year loan at 10%.\n\n2. A ten-year loan at 12%.\n\nFind the positive difference.",
        "Solve $(x - 1) (x - 2) = 0$ and $(x + 1) (x + 2) = 6$. Find the sum of the roots.",
        "The points (0, 1) and (2, 2) lie on a line. Find its slope. What is its intercept?",
        "Part of the money is spent on food. Find what part is left.",
        "Question: how many apples are left? Part of them were eaten.",
        "The area of the triangle is \\_\\_\\_\\_\\_\\_.",
    ],
)
def test_enumerated_data_is_not_multi_part(question):
    assert "math.multi_part" not in math(question)


@pytest.mark.parametrize(
    "question",
    ["Prove that there are infinitely many primes.", "Let $a>0$. Show that $a+1/a \\ge 2$.",
     "(2) Prove that the sequence is increasing.", "Prove or disprove: every even number is a sum of two primes."],
)  # fmt: skip
def test_proofs(question):
    assert "math.proof" in math(question)


@pytest.mark.parametrize(
    "question",
    ["Census data show that 30% of people own a cat. How many of 200 people own one?",
     "Show your work and find x if 2x=6.", "He needs to show that he received 80 dollars. How much more?",
     "The results show that the average is 5. What is the sum of 4 numbers?", "Tom watches 3 TV shows a day."],
)  # fmt: skip
def test_ordinary_words_are_not_proofs(question):
    assert "math.proof" not in math(question)


@pytest.mark.parametrize(
    "question",
    ["[asy]draw((0,0)--(1,1));[/asy] Find AB.", "Find x.\n\n![Diagram](https://i.imgur.com/x.png)",
     "In the figure below, find the area of the shaded region.", "The diagram shows twenty circles in a rectangle. Find p+q.",
     "The complete graph of $y=f(x)$ is shown in red below. Find the sum of the roots.",
     "See the accompanying figure. What is the angle?"],
)  # fmt: skip
def test_needs_an_image(question):
    assert "math.needs_image" in math(question)


@pytest.mark.parametrize(
    "question",
    ["Can you figure out how many apples are left if 3 of 5 are eaten?", "A figure skater spins 3 times. How many spins in 4 shows?",
     "The graph of $y=x^2$ meets the line $y=1$. Find the x-coordinates.", "In the graph of $\\frac{x^2+3x}{x+1}$, count the holes."],
)  # fmt: skip
def test_ordinary_figure_words_do_not_need_an_image(question):
    assert "math.needs_image" not in math(question)


@pytest.mark.parametrize(
    "question",
    ["What is the median?\n\\begin{tabular}{|c|c|}\\hline a & 1\\\\ b & 2\\\\\\hline\\end{tabular}",
     "\\begin{tabular}[t]{|l|c|}\\hline x & 2\\\\\\end{tabular} Find the mean.",
     "| n | S |\n|---|---|\n| 1 | 2 |\nFind S for n=3.", "The table below shows the scores. What is the mean?",
     "Using the data in the table, find the median.", "The stem and leaf plot gives ages. Find the mode."],
)  # fmt: skip
def test_needs_a_table(question):
    assert "math.needs_table" in math(question)


@pytest.mark.parametrize(
    "question",
    ["Two friends play table tennis for 3 hours. How many minutes?", "Eight people sit at a round table. In how many ways?",
     "She places 3 cards on the table. What is the chance?", "\\begin{tabular}{c}23\\\\+42\\\\\\hline 65\\end{tabular} How many such sums?"],
)  # fmt: skip
def test_ordinary_table_words_are_not_tables(question):
    assert "math.needs_table" not in math(question)


@pytest.mark.parametrize("answer", ["", "The proof is complete.", "see solution",
                                    "\\text{The answer depends on the values of a and b}", "$2/3 \\approx $0.67"])  # fmt: skip
def test_unverifiable_answers(answer):
    assert rules_math.is_unverifiable_answer(answer, max_words=5)


@pytest.mark.parametrize(
    "answer", ["5", "\\text{Sunday}", "\\approx 8.24 \\text{ mph}", "x=3 \\text{ or } x=5", "(1, 2]"]
)
def test_checkable_answers(answer):
    assert not rules_math.is_unverifiable_answer(answer, max_words=5)


@pytest.mark.parametrize(
    "question, answer",
    [("What is 1+1? $\\textbf{(A) } 1 \\qquad \\textbf{(B) } 2 \\qquad \\textbf{(C) } 3$", "B"),
     ("Which?\nA. 1\nB. 2\nC. 3", "2"), ("Pick one.", "\\text{(C)}"),
     ("Which vectors work? Enter the letters, separated by commas.", "\\text{B, E, G}"),
     ("On which quarter, $A$, $B$, $C$ or $D$, did he stop?", "C")],
)  # fmt: skip
def test_multiple_choice(question, answer):
    assert "math.multiple_choice" in math(question, answer)


@pytest.mark.parametrize(
    "question, answer",
    [("[asy]dot(A);dot(B);dot(C);[/asy] Find the area of ABC.", "6"), ("Express the result in terms of A, B and D.", "D"),
     ("Points (A) and (B) are 3 apart. Find the midpoint distance.", "1.5")],
)  # fmt: skip
def test_not_multiple_choice(question, answer):
    assert "math.multiple_choice" not in math(question, answer)


def test_multiple_choice_can_be_allowed():
    problem = Problem(source="t", split="s", source_index="1", domain="math", row_hash="", answer="B",
                      question="$\\textbf{(A) } 1 \\qquad \\textbf{(B) } 2 \\qquad \\textbf{(C) } 3$")  # fmt: skip
    assert reasons_for(problem, FilterConfig(reject_multiple_choice=False)) == []


# ------------------------------------------------------------------------------------------ code


def test_file_io():
    assert "code.file_io" in code("Read the numbers from input.txt and write the answer to output.txt.")
    assert "code.file_io" in code(
        "Sum the lines.", solution="with open('data.txt') as f:\n    print(len(f.read()))"
    )
    assert "code.file_io" in code(
        "Sort them.", metadata={"input_file": "books.in", "output_file": "books.out"}
    )


def test_file_names_as_data_are_not_file_io():
    question = 'def file_name_check(file_name):\n    """Return Yes for a valid name, e.g. file_name_check("example.txt")."""'
    assert "code.file_io" not in code(question)
    assert "code.file_io" in code("Open the file named scores.csv and print the best score.")


STDIO = StdioTests(cases=(StdioCase("3\n1 2 3\n", "6\n"),))
ASSERTS = AssertTests(code="def check(candidate):\n    assert candidate(1) == 1\n", entry_point="f")


@pytest.mark.parametrize(
    "question",
    [
        "The first line of the input file contains n. Print the sum to the output file.",
        "Input\nThe input file consists of one line with two integers a and b.\nOutput\nWrite to the output file one integer.",
        "Read from the file the number of test cases t, then t lines follow.",
    ],
)
def test_input_file_wording_with_stdio_tests_is_not_file_io(question):
    assert "code.file_io" not in code(question, tests=STDIO)


@pytest.mark.parametrize(
    "question",
    [
        "The input file input.txt contains n. Print the answer to output.txt.",
        "Read the graph from the input file graph.in and write the answer to graph.out.",
        "Open the file named scores.csv and print the best score.",
        "Read the numbers from data.txt and print their sum.",
        "Use freopen to redirect input; the input file contains n.",
    ],
)
def test_named_files_stay_file_io_whatever_the_tests(question):
    assert "code.file_io" in code(question, tests=STDIO)
    assert "code.file_io" in code(question, tests=ASSERTS)


def test_unnamed_input_file_is_file_io_when_the_tests_are_not_stdio():
    assert "code.file_io" in code("Read the records from the input file and return the count.", tests=ASSERTS)


def test_file_names_in_the_data_are_not_file_io():
    # LeetCode's longest absolute path: the file names are inside the string argument.
    question = (
        "subdir1 contains a file file1.ext and subdir2 contains a file file2.ext. Return the longest path."
    )
    assert "code.file_io" not in code(question, tests=ASSERTS)
    assert "code.file_io" not in code("Update files should be copied to all n computers.", tests=STDIO)


def test_stdin_and_flush_instructions_are_not_file_io():
    assert "code.file_io" not in code("Read n.", solution="import sys\ndata = open(0).read()\nprint(data)")
    assert "code.file_io" not in code("Use System.out.flush() in Java and stdout.flush() in Python.")
    assert "code.file_io" not in code("Read n.", solution="import sys\nprint(sys.stdin.readline())")


def test_network():
    assert "code.network" in code(
        "Fetch it.", solution="import requests\nprint(requests.get('http://x').text)"
    )
    assert "code.network" in code("Send an HTTP request to the server and print the status code.")
    assert "code.network" in code("Echo.", solution="from urllib.request import urlopen\n")
    assert "code.network" not in code(
        "See https://en.wikipedia.org/wiki/Palindrome for the definition. Read s."
    )


def test_environment():
    assert "code.environment" in code("Go.", solution="import numpy as np\nprint(np.zeros(3))")
    assert "code.environment" in code("Go.", solution="from sortedcontainers import SortedList\n")
    assert "code.environment" in code("Load the CSV using pandas and print the mean.")
    assert "code.environment" in code("Go.", solution="import subprocess\nsubprocess.run(['ls'])")
    assert "code.environment" not in code(
        "Go.", solution="import heapq, collections, itertools\nfrom typing import List\n"
    )
    allowed = FilterConfig(allowed_packages=("sortedcontainers",))
    assert "code.environment" not in code(
        "Go.", solution="from sortedcontainers import SortedList\n", config=allowed
    )


def test_special_judge():
    assert "code.special_judge" in code("This is an interactive problem. After each query flush the output.")
    assert "code.special_judge" in code("If there are multiple answers, print any of them.")
    assert "code.special_judge" in code(
        "Your answer is correct if its absolute or relative error does not exceed 1e-6."
    )
    exact = AssertTests(
        code="def check(candidate):\n    assert candidate([1, 2]) == [2, 1]\n", entry_point="f"
    )
    sorted_check = AssertTests(
        code="def check(candidate):\n    assert sorted(candidate([1, 2])) == [1, 2]\n", entry_point="f"
    )
    assert "code.special_judge" in code("Return the answer in any order.", tests=exact)
    assert "code.special_judge" not in code("Return the answer in any order.", tests=sorted_check)


@pytest.mark.parametrize(
    "question",
    ["Return the minimum absolute difference between two elements.", "The dishes can be prepared in any order. Return the maximum.",
     "Print any integer k such that k is the answer; it is guaranteed to be unique."],
)  # fmt: skip
def test_not_special_judge(question):
    assert "code.special_judge" not in code(question)


def test_solution_that_does_not_parse_gives_no_solution_signals():
    assert rules_code.solution_facts("def broken(:\n") == rules_code.SolutionFacts()
