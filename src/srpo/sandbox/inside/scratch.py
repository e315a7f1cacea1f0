"""Emptying scratch folders that a program may have made hostile.

A program can nest folders thousands deep (recursive removal then overflows Python's stack, and
paths outgrow PATH_MAX), take away its own permissions, or replace the folder itself. `empty`
works level by level instead: every sub-folder it meets is first moved up to the top of the
scratch folder under a fresh name, so no path is ever more than two levels deep.
"""

from __future__ import annotations

import contextlib
import os
import stat

_FULL = stat.S_IRWXU


def _unlock(path: str) -> None:
    with contextlib.suppress(OSError):
        os.chmod(path, _FULL)


def empty(folder: str) -> None:
    """Remove everything inside `folder` (re-created if it is gone); raises OSError if it cannot."""
    try:  # most programs leave nothing: two system calls
        os.chmod(folder, _FULL)
        if not os.listdir(folder):
            return
    except OSError:
        pass
    os.makedirs(folder, exist_ok=True)
    _unlock(folder)
    pending = [folder]
    emptied: list[str] = []
    hoisted = 0
    while pending:
        current = pending.pop()
        _unlock(current)
        for entry in list(os.scandir(current)):
            if entry.is_dir(follow_symlinks=False):
                hoisted += 1
                target = os.path.join(folder, f".srpo-wipe-{hoisted}")
                if current != folder:
                    _unlock(entry.path)  # moving a folder rewrites its "..": it must be writable
                    os.rename(entry.path, target)
                else:
                    target = entry.path
                pending.append(target)
            else:
                os.unlink(entry.path)
        if current != folder:
            emptied.append(current)
    for path in emptied:
        os.rmdir(path)


def remove(folder: str) -> None:
    """Remove `folder` and everything in it, however deep; missing is fine."""
    if os.path.lexists(folder):
        empty(folder)
        os.rmdir(folder)
