"""Bimodal datasets whose redundant, unique and synergistic parts are known by construction.

numpy only: importing this package never imports torch.
"""

from synthetic.dataset import MultimodalDataset, Split, from_arrays

__all__ = ["MultimodalDataset", "Split", "from_arrays"]
