"""The main screen's tabs, once: each pane's id, the key that shows it, its title.

The key bindings (``qtui.ui.actions``), the panes (``qtui.ui.layout``), the
warnings count in its tab's label (``WarningsPanel``) and the off-screen tab
images (``qtui.ui.tab_images``) all read this table, so a tab's number cannot
differ between its label and its key.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tab:
    """One tab: ``id`` is its ``TabPane``'s id, ``key`` the digit that shows it."""

    id: str
    key: str
    title: str

    def label(self, count: int = 0) -> str:
        """The tab bar's text, ``4 Warnings``, with ``count`` after it when there is one."""
        return f"{self.key} {self.title} ({count})" if count else f"{self.key} {self.title}"


#: In the tab bar's order; the keys are 1..7 in that order.
TABS: tuple[Tab, ...] = (
    Tab("setup", "1", "Setup"),
    Tab("monitor", "2", "Monitor"),
    Tab("results", "3", "Results"),
    Tab("warnings", "4", "Warnings"),
    Tab("gpu", "5", "GPU"),
    Tab("phases", "6", "Phases"),
    Tab("sweep", "7", "Sweep"),
)

BY_ID: dict[str, Tab] = {tab.id: tab for tab in TABS}


def label(tab_id: str, count: int = 0) -> str:
    """The label of the tab ``tab_id`` (``label("gpu")`` is ``5 GPU``)."""
    return BY_ID[tab_id].label(count)
