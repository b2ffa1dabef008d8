"""Applications built on pusherd."""
