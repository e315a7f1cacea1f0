"""Progress bars on stderr, drawn only when stderr is a terminal (so logs and pipes stay clean)."""

from __future__ import annotations

from srpo.cli.output import stderr


class RichReporter:
    """Progress bar over bytes read, on stderr, only when stderr is a terminal."""

    def __init__(self, *, quiet: bool = False, label: str = "ingesting") -> None:
        self.console = stderr()
        self.quiet = quiet
        self.label = label
        self._progress = None
        self._task = None

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message)

    def start(self, total_bytes: int) -> None:
        if self.quiet or not self.console.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            f"[bold]{self.label}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeRemainingColumn(), console=self.console, transient=True,
        )  # fmt: skip
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total_bytes)

    def advance(self, done_bytes: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, done_bytes)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class CountProgress:
    """A progress bar over items, with an optional rate ("12.3 samples/s"), on stderr and only
    when stderr is a terminal. `start(total)` once the total is known, `advance(n)` as items finish."""

    def __init__(self, label: str, *, quiet: bool, rate_unit: str | None = None) -> None:
        self.label = label
        self.rate_unit = rate_unit
        self.enabled = not quiet and stderr().is_terminal
        self._progress = None
        self._task = None

    def __enter__(self) -> CountProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                f"[bold]{self.label}", BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(), console=stderr(), transient=True,
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None, rate="")
        return self

    def start(self, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)

    def advance(self, count: int) -> None:
        if self._progress is None:
            return
        self._progress.advance(self._task, count)
        if self.rate_unit:
            speed = self._progress.tasks[0].speed
            self._progress.update(self._task, rate=f"{speed:.1f} {self.rate_unit}/s" if speed else "")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
