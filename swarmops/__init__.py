"""SwarmOps: MLOps for drone swarms trained with PPO (precision agriculture)."""

__version__ = "0.1.0"
