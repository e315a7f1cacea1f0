"""Pick the rows of ../shared/data that the cleaning-rule evaluation set labels.

Reproducible: the catalog is built with srpo's own `ingest` (adapters auto-detected) from the
shared data, rows are read in a fixed order, and every random draw comes from one seeded
`random.Random`. The output lists row keys only (source, split, source_index, the dataset path
and why the row was drawn); no problem text is copied. The labels themselves
(tests/data/cleaning_labels.jsonl) are a person's judgement after reading each row, not the
output of any rule: this script only decides which rows get read.

Three buckets, drawn in this order (seed SEED), a row taken at most once:
  - `candidate`: broad keyword/regex hits for each cleaning reason (likely positives);
  - `tricky`: ordinary words that look like signals ("figure out", "table tennis", "show up",
    "f(1) and f(2)", "return any of them" vs "return the smallest one", ...);
  - `random`: uniform rows per domain, across all sources;
then a second `candidate` round (SUPPLEMENT, seed SEED + 1) for the reasons still short of
positives after the first labelling pass. A third round (ISSUE14, seed SEED + 2, `--extend`)
draws the shapes issue 14 found missing: sub-questions numbered in other styles (inline `a)`
and `1)`, roman numerals, numbered lines, `\\_` blanks, a list after "the following ...") and
code statements that mention files. It reads the raw question (`metadata.question_raw`, the
text the rules see), skips every key already in the committed candidate list and appends to it,
so the first two rounds are untouched.

    python tests/data/select_cleaning_candidates.py --data ../shared/data   # builds /tmp/labels.duckdb if absent
    python tests/data/select_cleaning_candidates.py --catalog X --data ../shared/data --out F
    python tests/data/select_cleaning_candidates.py --catalog X --data ../shared/data --extend

The regexes read the question/answer text as the catalog holds it. The committed list was drawn
from a catalog ingested by srpo before any cleaning stage existed (commit ad60ff8); if ingest later
normalises question text, a rebuild may draw different rows, and the committed
cleaning_candidates.jsonl stays the reference for which rows were labelled.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

SEED = 20260503
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Same default as tests/conftest.py: $SRPO_SHARED_DATA, else ../shared/data next to the checkout.
DEFAULT_DATA = Path(os.environ.get("SRPO_SHARED_DATA", REPO.parent / "shared" / "data"))
DEFAULT_CATALOG = Path("/tmp/labels.duckdb")
DEFAULT_OUT = HERE / "cleaning_candidates.jsonl"

# Every dataset of shared/data, ingested one path at a time with adapter auto-detection.
DATASETS = [
    "gsm8k/train.jsonl",
    "gsm8k/test.jsonl",
    "math/math500_test.jsonl",
    "math/hendrycks_math",
    "humaneval/HumanEval.jsonl.gz",
    "mbpp/mbpp.jsonl",
    "mbpp/sanitized-mbpp.json",
    "aime_amc/qwen25math_aime24.jsonl",
    "aime_amc/qwen25math_amc23.jsonl",
    "aime_amc/qwq_aime24.jsonl",
    "aime_amc/qwq_aime25.jsonl",
    "rllm_deepscaler/test_math/aime.json",
    "rllm_deepscaler/test_math/amc.json",
    "rllm_deepscaler/test_math/math.json",
    "rllm_deepscaler/train_math/aime.json",
    "rllm_deepscaler/train_math/math.json",
    "rllm_deepscaler/test_code/code_contests.json",
    "rllm_deepscaler/test_code/codeforces.json",
    "rllm_deepscaler/test_code/leetcode.json",
    "rllm_deepscaler/train_code/leetcode.json",
    "deepscaler_sample/deepscaler_train.parquet",
    "deepscaler_sample/deepscaler_val.parquet",
]

FLAGS = re.I | re.S
# (bucket, name, domain, fields searched, pattern, rows drawn: an int, or None for every hit)
PATTERNS: list[tuple[str, str, str, tuple[str, ...], str, int | None]] = [
    # --- likely positives -------------------------------------------------------------
    ("candidate", "asy", "math", ("question",), r"\[asy\]", 14),
    ("candidate", "image_link", "math", ("question",), r"!\[[^\]]*\]\(|<image>|<img\b", None),
    (
        "candidate",
        "figure_words",
        "math",
        ("question",),
        r"\b(figure|diagram|graph|picture|drawing)\b.{0,80}\b(shown|below|above)\b"
        r"|\b(shown|pictured|depicted)\b|\bin the (figure|diagram|picture)\b",
        20,
    ),
    (
        "candidate",
        "table",
        "math",
        ("question",),
        r"\\begin\{tabular\}|\\hline|\btable (below|above)\b|\bfollowing table\b|\bthe table\b"
        r"|^\s*\|.*\|\s*$",
        20,
    ),
    (
        "candidate",
        "prove",
        "math",
        ("question",),
        r"\bprove\b|\bshow that\b|\bjustify\b|\bdemonstrate\b|\bproof\b",
        None,
    ),
    (
        "candidate",
        "parts",
        "math",
        ("question",),
        r"\(1\).{5,}\(2\)|\(I\).{5,}\(II\)|\(a\).{5,}\(b\)|\(i\).{5,}\(ii\)|①|Ⅰ|\bpart \(?[ab]\)?",
        24,
    ),
    (
        "candidate",
        "choices",
        "math",
        ("question", "answer"),
        r"\\textbf\{\s*\(A\)|\(A\).{1,200}\(B\).{1,200}\(C\)|(^|\s)A\.\s.{1,200}\sB\.\s.{1,200}\sC\.\s"
        r"|^\s*\(?[A-E]\)?\s*$",
        18,
    ),
    (
        "candidate",
        "odd_answer",
        "math",
        ("answer",),
        r"^\s*$|\\text\{[^}]*\b(or|and)\b|[A-Za-z]{3,}\s+[A-Za-z]{3,}\s+[A-Za-z]{3,}|;|^\(\d\)",
        16,
    ),
    ("candidate", "interactive", "code", ("question",), r"\binteractive\b|\bflush\b", 10),
    (
        "candidate",
        "print_any",
        "code",
        ("question",),
        r"\b(print|output|return) any\b|\bany of them\b|\bany valid\b|\bmultiple (possible )?answers\b"
        r"|\bmultiple solutions\b|\bseveral (answers|solutions)\b",
        20,
    ),
    (
        "candidate",
        "float_tolerance",
        "code",
        ("question",),
        r"absolute or relative|relative error|absolute error|10\^\{?-\d+\}?",
        None,
    ),
    (
        "candidate",
        "file_io",
        "code",
        ("question", "solution", "metadata"),
        r"input\.txt|output\.txt|\bopen\(|input_file|output_file",
        None,
    ),
    (
        "candidate",
        "network",
        "code",
        ("question", "solution"),
        r"https?://|\brequests\.|\burllib\b|\bsocket\b|\bhttp\b",
        14,
    ),
    (
        "candidate",
        "third_party_import",
        "code",
        ("solution", "tests"),
        r"^\s*(import|from)\s+(numpy|pandas|scipy|sklearn|torch|sortedcontainers|tkinter|cv2"
        r"|matplotlib|sqlite3|requests)\b",
        None,
    ),
    # --- tricky negatives ---------------------------------------------------------------
    ("tricky", "figure_out", "math", ("question",), r"\bfigure(s|d)? out\b|\bfigure skat", 6),
    (
        "tricky",
        "table_words",
        "math",
        ("question",),
        r"\btable tennis\b|\bround table\b|\b(at|around) (a|the) (round )?table\b|\btimes table",
        7,
    ),
    ("tricky", "improve_show", "math", ("question",), r"\bimprove|\bshow your work\b|\bshow up\b", 5),
    ("tricky", "graph_of", "math", ("question",), r"\bthe graph of\b", 6),
    (
        "tricky",
        "f1_f2",
        "math",
        ("question",),
        r"f\(1\).{1,80}f\(2\)|\(1\)\s*(and|,)\s*\(2\)",
        6,
    ),
    (
        "tricky",
        "find_a_and_b",
        "math",
        ("question",),
        r"\b(find|determine|compute) (the )?(ordered )?(pair|triple)|\benter the ordered\b"
        r"|\bfind \$?[a-z]\$? and \$?[a-z]\$?\b",
        7,
    ),
    (
        "tricky",
        "conditions_list",
        "math",
        ("question",),
        r"\(i\)[^?]{5,200}\(ii\)[^?]{5,200}\(iii\)|\bconditions?:",
        4,
    ),
    (
        "tricky",
        "code_unique_answer",
        "code",
        ("question",),
        r"\bif there are multiple answers, return the (smallest|lexicographically|largest|one)"
        r"|\bany (valid )?pair\b|\bany one of its\b|\bin any order\b",
        8,
    ),
    ("tricky", "code_words", "code", ("question", "solution"), r"\bfile\b|\burl\b|\bgraph\b|\bimage\b", 6),
]
# Hits of these are skipped for the named pattern (figure words are drawn from rows without
# [asy] code, which the `asy` pattern already covers).
EXCLUDE = {"figure_words": r"\[asy\]"}
# Part and choice markers are matched case-sensitively: "(a)...(b)" parts are not "(A)...(E)" choices.
CASE_SENSITIVE = {"parts", "choices", "parts_lines"}
RANDOM_PER_DOMAIN = {"math": 88, "code": 44}

# A second candidate round, drawn after the random rows with its own seed (SEED + 1) so that
# adding it left every earlier draw unchanged: after the first labelling pass the likely
# positives for multi-part questions, tables and unverifiable golds were under 15 each.
# Part markers here must start a line (or follow <br/>), as in "(1) ... \n(2) ...".
SUPPLEMENT: list[tuple[str, str, str, tuple[str, ...], str, int | None]] = [
    ("candidate", "parts_lines", "math", ("question",), r"(^|<br/>)[\s\-*]*[$\\(]*\(?(2|II|Ⅱ)\)|②", 14),
    (
        "candidate",
        "table_more",
        "math",
        ("question",),
        r"\\begin\{tabular\}|\\hline|^\s*\|.*\|\s*$|\bthe table\b|\btable (below|above|shows)",
        10,
    ),
    ("candidate", "approx_answer", "math", ("answer",), r"\\approx", None),
    ("candidate", "empty_answer", "math", ("answer",), r"\A\s*\Z", None),
]

# Issue 14's round (seed SEED + 2), drawn after the first 400 rows were labelled and before the
# rules for these shapes changed. Patterns read `question_raw` and are case-sensitive (a) is a
# part, A) a choice). Candidates for both the new part styles and their look-alike negatives
# (conditions, program steps, statements, rules numbered the same way).
ISSUE14: list[tuple[str, str, str, tuple[str, ...], str, int | None]] = [
    (
        "candidate",
        "parts_inline",
        "math",
        ("question_raw",),
        r"(?:^|[\s:;,.?!])a\)\s+\S.{1,400}?[\s;,.]b\)\s+\S"
        r"|(?:^|[\s:;,.?!])1\)\s+[A-Za-z].{1,400}?[\s;,.]2\)\s+[A-Za-z]",
        None,
    ),
    (
        "candidate",
        "parts_letter_dot",
        "math",
        ("question_raw",),
        r"(?:^|\s)a\.\s+[A-Za-z$\\].{1,400}?\sb\.\s+[A-Za-z$\\]",
        None,
    ),
    (
        "candidate",
        "parts_roman",
        "math",
        ("question_raw",),
        r"(?:^|[\s(（$])(?:I|Ⅰ|i)\s*[.)）].{1,400}?(?:^|[\s(（$])(?:II|Ⅱ|ii)\s*[.)）]",
        12,
    ),
    (
        "candidate",
        "parts_numbered_lines",
        "math",
        ("question_raw",),
        r"(?:^|\n)[ \t]*1\.\s.{1,400}?\n[ \t]*2\.\s",
        12,
    ),
    (
        "candidate",
        "parts_word",
        "math",
        ("question_raw",),
        r"\b[Pp]art\s*\(?(?:[A-D]|I{1,3}|[1-4]|[Oo]ne|[Tt]wo)\b",
        None,
    ),
    ("candidate", "blank_escaped", "math", ("question_raw",), r"(?:\\_){3,}", 10),
    (
        "candidate",
        "following_items",
        "math",
        ("question_raw",),
        r"\bthe following \w+(?: \w+)?\s*[?.:]\s*(?:\([^)]*\))?\s*\n\s*[(（]?(?:1|a|I|i|Ⅰ)[.)）]",
        12,
    ),
    (
        "candidate",
        "file_words",
        "code",
        ("question_raw",),
        r"\b(?:input|output)\s+files?\b|\bfiles?\b|\bfreopen\b",
        None,
    ),
]


def build_catalog(catalog: Path, data: Path) -> None:
    """Ingest every dataset into a fresh scratch catalog with srpo's CLI."""
    for rel in DATASETS:
        cmd = [
            sys.executable,
            "-m",
            "srpo.cli.curate",
            "ingest",
            str(data / rel),
            "--catalog",
            str(catalog),
            "-q",
        ]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def load_rows(catalog: Path, data: Path) -> list[dict]:
    import duckdb

    con = duckdb.connect(str(catalog), read_only=True)
    rows = con.execute(
        """SELECT p.source, p.split, p.source_index, p.domain, p.question, coalesce(p.answer, ''),
                  coalesce(p.solution, ''), coalesce(p.tests::VARCHAR, ''),
                  coalesce(p.metadata::VARCHAR, ''), i.location
           FROM problems p JOIN ingests i USING (ingest_id)
           ORDER BY p.source, p.split, p.source_index"""
    ).fetchall()
    con.close()
    keys = (
        "source",
        "split",
        "source_index",
        "domain",
        "question",
        "answer",
        "solution",
        "tests",
        "metadata",
    )
    out = []
    for r in rows:
        row = dict(zip(keys, r[:9], strict=True))
        row["question_raw"] = json.loads(row["metadata"] or "{}").get("question_raw", row["question"])
        row["dataset"] = str(Path(r[9]).resolve().relative_to(data.resolve()))
        out.append(row)
    return out


def select(
    rows: list[dict], seed: int = SEED, *, rounds: str = "first", taken: set | None = None
) -> list[dict]:
    """The first two rounds (`rounds="first"`), or issue 14's round after the keys in `taken`."""
    rng = random.Random(seed)
    taken = set(taken or ())
    picked: list[dict] = []

    def take(row: dict, bucket: str, why: str) -> None:
        key = (row["source"], row["split"], row["source_index"])
        taken.add(key)
        picked.append(
            {k: row[k] for k in ("source", "split", "source_index", "domain", "dataset")}
            | {"bucket": bucket, "why": why}
        )

    def draw(patterns: list, rng: random.Random) -> None:
        for bucket, name, domain, fields, pattern, n in patterns:
            draw_one(bucket, name, domain, fields, pattern, n, rng)

    def draw_one(bucket, name, domain, fields, pattern, n, rng) -> None:
        sensitive = name in CASE_SENSITIVE or rounds == "issue14"
        rx = re.compile(pattern, (re.S if sensitive else FLAGS) | re.M)
        skip = re.compile(EXCLUDE[name], FLAGS) if name in EXCLUDE else None
        hits = [
            r
            for r in rows
            if r["domain"] == domain
            and (r["source"], r["split"], r["source_index"]) not in taken
            and any(rx.search(r[f]) for f in fields)
            and not (skip and any(skip.search(r[f]) for f in fields))
        ]
        chosen = hits if n is None or len(hits) <= n else rng.sample(hits, n)
        for r in chosen:
            take(r, bucket, name)

    if rounds == "issue14":
        draw(ISSUE14, random.Random(seed + 2))
        return picked
    draw(PATTERNS, rng)
    for domain, n in RANDOM_PER_DOMAIN.items():
        pool = [
            r
            for r in rows
            if r["domain"] == domain and (r["source"], r["split"], r["source_index"]) not in taken
        ]
        for r in rng.sample(pool, n):
            take(r, "random", f"random_{domain}")
    draw(SUPPLEMENT, random.Random(seed + 1))
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--extend", action="store_true", help="append issue 14's round to --out")
    args = ap.parse_args()
    if not args.catalog.exists():
        build_catalog(args.catalog, args.data)
    rows = load_rows(args.catalog, args.data)
    if args.extend:
        committed = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
        keys = {(c["source"], c["split"], c["source_index"]) for c in committed}
        picked = select(rows, args.seed, rounds="issue14", taken=keys)
        with args.out.open("a") as f:
            for p in picked:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        print(f"{len(picked)} rows appended -> {args.out}")
        return
    picked = select(rows, args.seed)
    with args.out.open("w") as f:
        for p in picked:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for p in picked:
        counts[p["bucket"]] = counts.get(p["bucket"], 0) + 1
    print(f"{len(picked)} rows -> {args.out}  " + "  ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
