"""SwarmOps training package."""
