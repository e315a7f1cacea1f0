"""Many concurrent requests into srpo's grader: math batched, code side by side.

Requests arrive one response at a time from many connections. `GradingQueue.submit` returns a
future per item:

- math items go to one queue; a single thread takes everything waiting (up to `max_batch`) and
  grades it in one `Grader.grade` call, so the cheap cases are decided in microseconds and the
  ones that need algebra share the warm worker pool. While one batch is graded the next one
  gathers, so batches grow with the load and no timer adds latency. A comparison that hangs is
  killed at `grader.timeout_s`; only the items of its batch wait for it;
- code items are graded one per call on `grader.workers` threads, each leasing its own sandbox:
  a program that loops or floods holds one sandbox for at most its own time limit
  (`grader.timeout_s` per test case, `grader.sandbox.total_timeout_s` in all), and every other
  program runs on the other sandboxes meanwhile.

Covers: scheduling. Does not cover: grading (`srpo.verify`), HTTP (`server`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from srpo.integrations.scoring import SharedGrader
from srpo.verify.grading import Grade, GradeItem

_STOP = None


class GradingQueue:
    """Schedules grade items on a `SharedGrader` (see the module docstring)."""

    def __init__(self, grader: SharedGrader, *, max_batch: int = 1024) -> None:
        self.grader = grader
        self.max_batch = max_batch
        self.batches = 0
        """Math batches graded so far (their mean size shows how much batching happened)."""
        self.batched_items = 0
        self._math: queue.SimpleQueue[tuple[GradeItem, Future[Grade]] | None] = queue.SimpleQueue()
        self._code = ThreadPoolExecutor(max_workers=grader.config.workers, thread_name_prefix="srpo-code")
        self._thread = threading.Thread(target=self._math_loop, name="srpo-math", daemon=True)
        self._thread.start()

    def submit(self, items: Sequence[GradeItem]) -> list[Future[Grade]]:
        futures: list[Future[Grade]] = []
        for item in items:
            if item.domain == "code":
                futures.append(self._code.submit(self._grade_one, item))
            else:
                future: Future[Grade] = Future()
                self._math.put((item, future))
                futures.append(future)
        return futures

    def _grade_one(self, item: GradeItem) -> Grade:
        return self.grader.grade([item])[0]

    def _math_loop(self) -> None:
        while True:
            first = self._math.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    waiting = self._math.get_nowait()
                except queue.Empty:
                    break
                if waiting is _STOP:
                    self._math.put(_STOP)  # finish this batch, then stop
                    break
                batch.append(waiting)
            self._grade_batch(batch)

    def _grade_batch(self, batch: list[tuple[GradeItem, Future[Grade]]]) -> None:
        try:
            grades = self.grader.grade([item for item, _ in batch])
        except Exception as error:  # never leave a request hanging
            for _, future in batch:
                future.set_exception(error)
            return
        self.batches += 1
        self.batched_items += len(batch)
        for (_, future), grade in zip(batch, grades, strict=True):
            future.set_result(grade)

    def close(self) -> None:
        self._math.put(_STOP)
        self._thread.join(timeout=30)
        self._code.shutdown(wait=True, cancel_futures=True)
