"""headline-dedup: newsroom headline deduplication."""
__version__ = "0.1.0"
