"""The local web page: a FastAPI JSON API plus one static HTML/JS page (no build step)."""
