"""SwarmOps ci package."""
