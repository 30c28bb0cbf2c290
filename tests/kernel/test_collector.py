"""quaysync.collector: pauses nest and overlap across threads; the collector's state comes back."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from quaysync.collector import collector_paused


@pytest.fixture(autouse=True)
def restore_collector() -> Iterator[None]:
    was_on = gc.isenabled()
    yield
    (gc.enable if was_on else gc.disable)()


def test_nested_pauses_switch_it_back_on_only_at_the_end() -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_inactive_does_nothing_and_off_stays_off() -> None:
    gc.enable()
    with collector_paused(active=False):
        assert gc.isenabled()
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads() -> None:
    gc.enable()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    states: list[bool] = []

    def second() -> None:
        first_in.wait(10)
        with collector_paused():
            second_in.set()
            first_out.wait(10)
            states.append(gc.isenabled())  # the first pause ended; this one still holds

    worker = threading.Thread(target=second)
    worker.start()
    with collector_paused():
        first_in.set()
        second_in.wait(10)
    first_out.set()
    worker.join(10)
    assert states == [False] and gc.isenabled()
