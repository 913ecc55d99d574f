"""SwarmOps monitoring package."""
