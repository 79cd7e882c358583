"""synergy-lab: how much of the synergistic information between modalities does a method capture?"""

__version__ = "0.1.0"
