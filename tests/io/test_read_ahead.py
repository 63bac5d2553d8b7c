"""read_ahead: items in order from a background thread, never more than ``size`` ahead; errors and early
stops reach the right side."""

from __future__ import annotations

import threading
import time

import pytest

from human3d.io.read_ahead import read_ahead


def test_items_come_in_order_and_the_producer_stays_at_most_size_ahead():
    produced = []

    def items():
        for i in range(20):
            produced.append(i)
            yield i

    seen = []
    for item in read_ahead(items(), size=3):
        time.sleep(0.01)  # a slow consumer: the producer waits for it
        # produced: what the consumer holds, up to 3 waiting, and 1 in the producer's hand
        assert len(produced) <= len(seen) + 1 + 3 + 1
        seen.append(item)
    assert seen == list(range(20))


def test_an_error_while_producing_is_raised_where_its_item_would_come():
    def items():
        yield 1
        yield 2
        raise OSError("frame 3 cannot be read")

    got = []
    with pytest.raises(OSError, match="frame 3 cannot be read"):
        for item in read_ahead(items(), size=4):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_thread():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    stream = read_ahead(endless(), size=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()
    assert threading.active_count() == before
    with pytest.raises(ValueError, match="size must be at least 1"):
        next(read_ahead([1], size=0))
