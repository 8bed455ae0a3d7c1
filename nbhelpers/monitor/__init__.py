"""Monitor: drift between the data a model was validated on and the data it sees now (two-sample
tests and PSI per feature), a monitor that raises an alarm on a stream of batches, and a replay
of a stream that retrains on a policy."""

from .drift import drift_table, drift_words, holm, image_summary, psi
from .figures import plot_stream
from .stream import DriftMonitor, replay
from .trials import LabelShift, drift_trials, drifting_stream

__all__ = ["DriftMonitor", "LabelShift", "drift_table", "drift_trials", "drift_words", "drifting_stream", "holm",
           "image_summary", "plot_stream", "psi", "replay"]
