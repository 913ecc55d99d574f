"""SwarmOps mission package."""
