"""A widget that shows rows of text and repaints only the rows that change (Textual's line API).

Each row is drawn once into a strip and kept; a new row redraws and repaints that
row alone, and only a change in the number of rows lays the screen out again.
Live figures change a few rows per frame: redrawing whole widgets (and
recompositing them) every frame was most of the dashboard's CPU time.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import RenderOptions
from textual.widget import Widget


class RowsView(Widget):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rows: list[Content] = []
        self._strips: list[Strip] = []  # each row drawn, at ``_strips_width``
        self._strips_width = -1

    def set_rows(self, rows: list[Content]) -> None:
        if len(rows) != len(self._rows):
            self._rows, self._strips_width = list(rows), -1
            self.refresh(layout=True)
            return
        changed = []
        for y, (old, new) in enumerate(zip(self._rows, rows)):
            if old != new:
                self._rows[y] = new
                if self._strips_width >= 0:
                    self._strips[y] = self._draw(new, self._strips_width)
                changed.append(y)
        if changed:
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in changed))

    def _draw(self, row: Content, width: int) -> Strip:
        # Content's own renderer, not Visual.to_strips: rows hold no links and no selection, and
        # skipping those lookups takes a third off each row's cost.
        strips = row.render_strips(width, 1, self.visual_style, RenderOptions(self._get_style, self.styles))
        return strips[0] if strips else Strip.blank(width, self.visual_style.rich_style)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width != self._strips_width:  # first draw, a resize or a new theme: every row again
            self._strips = [self._draw(row, width) for row in self._rows]
            self._strips_width = width
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips_width = -1  # colours come from the stylesheet and theme
