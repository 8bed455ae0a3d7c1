"""The widget layer: `explore` and every panel. Nothing below this layer imports ipywidgets."""

from .panel import Panel, explore
from .panels import GapPanel, PreviewPanel, gap_panel, preview_panel
from .hpo_panel import search_panel
from .decision_panel import threshold_panel

__all__ = ["GapPanel", "Panel", "PreviewPanel", "explore", "gap_panel", "preview_panel", "search_panel", "threshold_panel"]
