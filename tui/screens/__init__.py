"""Screens: the main browser and the modal screens it opens."""
