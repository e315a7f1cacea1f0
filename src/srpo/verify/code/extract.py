"""Finding the program in a model's response: the last fenced Python block.

A block opens with a line of three or more backticks (or tildes) whose info string starts with
`python`, `py`, `python3` or `py3` (any case), and closes with a line holding the same fence
character at least as many times. A block that never closes (a response cut off by the token
limit) is not used. Untagged and other-language blocks are ignored: they are usually sample input
or output. No block: `None`, which graders report as `no_code`.
"""

from __future__ import annotations

import re

PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
_OPEN = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, body) of every closed fenced block, in order."""
    blocks: list[tuple[str, str]] = []
    fence, tag, body = None, "", []
    for line in text.splitlines():
        if fence is None:
            opened = _OPEN.match(line)
            if opened:
                fence, body = opened.group("fence"), []
                words = opened.group("info").split()
                tag = words[0].lower() if words else ""
        elif line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
            blocks.append((tag, "\n".join(body) + "\n"))
            fence = None
        else:
            body.append(line)
    return blocks


def extract_code(response: str) -> str | None:
    """The last fenced Python block of `response`, or None when there is none."""
    for tag, body in reversed(fenced_blocks(response)):
        if tag in PYTHON_TAGS and body.strip():
            return body
    return None
