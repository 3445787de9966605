"""Spyglass engine: posts, entity knowledge and extraction, the search index, triage state.

Nothing in this package imports Textual; the terminal UI lives in ``tui``.
"""
