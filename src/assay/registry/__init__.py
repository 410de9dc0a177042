"""The curated registry: a simple-repository index that serves only what policy allows."""
