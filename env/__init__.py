"""SwarmOps env package."""
