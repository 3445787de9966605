"""Widgets, one per file: post list, sidebar, search bar, article view."""
