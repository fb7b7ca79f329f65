"""Reporting results: per-replicate outcomes and summaries, the Bass mathematics, figures,
Markdown tables and the run report."""
