"""Code grading: the program in a response (`extract`), judged against its tests in the sandbox
(`judge`), for one response or a batch, and reference-solution verification (`batch`).

Public API: `CodeItem`, `CodeGrade`, `grade_code`, `grade_code_batch`, `ReferenceItem`,
`CodeVerification`, `verify_reference`, `verify_references`, `extract_code`, `sandbox_pool` (the
process-wide sandboxes, refused below `grader.sandbox.min_isolation`). Importing this package
starts no sandbox.
"""

from srpo.verify.code.batch import (
    CodeGrade,
    CodeItem,
    CodeVerification,
    ReferenceItem,
    grade_code,
    grade_code_batch,
    sandbox_pool,
    verify_reference,
    verify_references,
)
from srpo.verify.code.extract import extract_code

__all__ = [
    "CodeGrade",
    "CodeItem",
    "CodeVerification",
    "ReferenceItem",
    "extract_code",
    "grade_code",
    "grade_code_batch",
    "sandbox_pool",
    "verify_reference",
    "verify_references",
]
