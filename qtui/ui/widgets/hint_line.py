"""A hint of a fixed number of lines that ends at a word (issue 23, item 7).

The form's hint under the combination grid has two lines, so that a long
refusal reason does not push the fields down.  Cut by the widget's edge it
ended mid-word (``does not support adjoint with requested``); here the text
is wrapped at words to the width it has, and when it needs more lines the last
one ends at a word with ``…`` (the whole reason is in the cell's tooltip).
Redrawn at the new width on a resize.
"""

from __future__ import annotations

import textwrap

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

ELLIPSIS = "…"


def fit_lines(text: str, width: int, lines: int) -> str:
    """``text`` wrapped at words to ``width`` cells in at most ``lines`` lines, the
    last ending at a word with ``…`` when some of it is left out."""
    if width <= 1:
        return text
    wrapped = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    if len(wrapped) <= lines:
        return "\n".join(wrapped)
    kept = wrapped[:lines]
    words = kept[-1].split(" ")
    while len(words) > 1 and len(" ".join(words)) + len(ELLIPSIS) > width:
        words.pop()
    kept[-1] = " ".join(words)[: width - len(ELLIPSIS)] + ELLIPSIS
    return "\n".join(kept)


class HintLine(Static):
    """A ``Static`` whose text is fitted to its width and ``lines`` lines when drawn."""

    def __init__(self, text: str = "", *, lines: int = 2, id: str | None = None) -> None:  # noqa: A002
        super().__init__(text, markup=False, id=id)
        self.lines = lines
        self._hint = text

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        self._hint = content.plain if isinstance(content, Text) else str(content)
        super().update(content, layout=layout)

    def render(self) -> Text:
        return Text(fit_lines(self._hint, self.content_region.width, self.lines))

    def on_resize(self) -> None:
        self.refresh()
