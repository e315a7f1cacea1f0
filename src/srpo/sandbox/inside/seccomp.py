"""A small seccomp filter that the zygote installs on itself at start-up, so every program it forks
runs under it (filters are inherited and cannot be removed).

It refuses (EPERM) system calls that a test program never needs and that would step around the
other limits: System V shared memory, message queues and semaphores (memory that outlives a process
and escapes RLIMIT_AS), ptrace and process_vm_* (reading another process's memory, e.g. the
harness's), io_uring, keyrings, perf events, BPF, userfaultfd, kexec, mount and namespace changes.
System calls of a foreign ABI (i386 or x32 on x86_64) are refused wholesale, because their numbers
differ. Architectures other than x86_64 and aarch64 get no filter, and the zygote says so.
"""

from __future__ import annotations

import ctypes
import os
import struct

_BLOCKED = {
    # name: (x86_64, aarch64)
    "shmget": (29, 194),
    "shmat": (30, 196),
    "semget": (64, 190),
    "msgget": (68, 186),
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "keyctl": (250, 219),
    "perf_event_open": (298, 241),
    "bpf": (321, 280),
    "userfaultfd": (323, 282),
    "kexec_load": (246, 104),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "unshare": (272, 97),
    "setns": (308, 268),
}
_ARCHES = {
    "x86_64": (0, 0xC000003E),
    "amd64": (0, 0xC000003E),
    "aarch64": (1, 0xC00000B7),
    "arm64": (1, 0xC00000B7),
}
_X32_SYSCALL_BIT = 0x40000000

_LD_ABS_W, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06
_RET_ALLOW, _RET_ERRNO, _EPERM = 0x7FFF0000, 0x00050000, 1
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def build_filter() -> bytes | None:
    """The BPF program for this machine's architecture, or None where it is not supported."""
    arch = _ARCHES.get(os.uname().machine.lower())
    if arch is None:
        return None
    column, audit_arch = arch
    deny = _insn(_RET_K, 0, 0, _RET_ERRNO | _EPERM)
    numbers = sorted({numbers[column] for numbers in _BLOCKED.values()})
    program = [
        _insn(_LD_ABS_W, 0, 0, 4),  # seccomp_data.arch
        _insn(_JEQ_K, 1, 0, audit_arch),
        deny,
        _insn(_LD_ABS_W, 0, 0, 0),  # seccomp_data.nr
    ]
    if column == 0:  # x32 calls carry a high bit on x86_64
        program += [_insn(_JGE_K, 0, 1, _X32_SYSCALL_BIT), deny]
    for position, number in enumerate(numbers):
        remaining = len(numbers) - position - 1
        # On a match, jump over the remaining checks and the ALLOW to the final deny.
        program.append(_insn(_JEQ_K, remaining + 1, 0, number))
    program += [_insn(_RET_K, 0, 0, _RET_ALLOW), deny]
    return b"".join(program)


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Filter:
    """A filter ready to install on the calling process."""

    def __init__(self, bpf: bytes) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._buffer = ctypes.create_string_buffer(bpf, len(bpf))
        self._program = _Program(len(bpf) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))

    def install(self) -> None:
        """Install on the calling process (inherited by its children); raises OSError."""
        if self._libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if self._libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(self._program), 0, 0):
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def build() -> Filter | None:
    """The filter for this machine, or None where the architecture is not supported."""
    bpf = build_filter()
    return Filter(bpf) if bpf is not None else None
