"""A first screen held for a frame: dropped when the complete answer comes within it, else posted once."""

from __future__ import annotations

import threading

from tui.held_answer import HeldFirstScreen


def test_a_complete_answer_within_the_delay_replaces_the_first_screen() -> None:
    posts: list[str] = []
    held = HeldFirstScreen(lambda: posts.append("first"), delay=600.0)
    held.settle()
    posts.append("complete")
    assert posts == ["complete"]


def test_a_first_screen_whose_delay_passed_is_posted_once_and_before_the_complete_answer() -> None:
    posts: list[str] = []
    posted = threading.Event()

    def post() -> None:
        posts.append("first")
        posted.set()

    held = HeldFirstScreen(post, delay=0.0)
    assert posted.wait(30)
    held.settle()
    posts.append("complete")
    assert posts == ["first", "complete"]
