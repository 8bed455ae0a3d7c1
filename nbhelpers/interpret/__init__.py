"""Interpretation (chapter 08): which pixels a prediction rests on, whether that map means
anything, what a layer sees, what the network makes of its inputs, and where it is surest and wrong.

- `attribute`, `plot_attributions`: saliency, integrated gradients and Grad-CAM (captum).
- `randomization_check`, `plot_randomization`: the sanity check of Adebayo et al. (2018).
- `activation_maps`, `plot_activation_maps`: a conv layer's channels, by a forward hook.
- `embeddings`, `plot_tsne`: the classifier's input features; t-SNE of them or of raw pixels.
- `confidently_wrong`, `plot_confidently_wrong`: the most confident mistakes.

captum, scikit-learn, scipy, pandas and matplotlib load inside the functions that use them.
"""

from .activations import activation_maps
from .attribution import attribute
from .embedding import embeddings, plot_tsne
from .figures import plot_activation_maps, plot_attributions, plot_randomization
from .mistakes import confidently_wrong, plot_confidently_wrong
from .sanity import randomization_check

__all__ = ["activation_maps", "attribute", "confidently_wrong", "embeddings", "plot_activation_maps",
           "plot_attributions", "plot_confidently_wrong", "plot_randomization", "plot_tsne", "randomization_check"]
