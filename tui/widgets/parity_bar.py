"""The run's parity status: do the runners train the same model from the same start?"""

from __future__ import annotations

from textual.widgets import Static

from runners.session.verdict.parity import ParityReport, describe


class ParityBar(Static):
    _shown = ""

    def show(self, report: ParityReport, failed_runners: list[str], judged: bool = True) -> None:
        for status in ("verified", "pending", "failed", "single"):
            self.set_class(judged and report.status == status, f"-{status}")
        text = describe(report, failed_runners, judged)
        for verdict in ("✗ FAILED", "✓ verified"):
            text = text.replace(verdict, f"[b]{verdict}[/b]", 1)
        if text != self._shown:  # one row, always: redraw only on news, never re-layout
            self._shown = text
            self.update(text, layout=False)
