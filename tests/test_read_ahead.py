"""Reading ahead keeps order, bounds what waits, and raises a reader's error where it happened."""

import threading
import time

import pytest
from ringwatch.ingest.read_ahead import read_ahead


def test_items_come_in_order_and_the_reader_runs_ahead_by_at_most_depth():
    produced = []

    def items():
        for i in range(6):
            produced.append(i)
            yield i

    seen = []
    for item in read_ahead(items(), depth=2):
        time.sleep(0.05)  # the reader has had time to run as far ahead as it may
        seen.append(item)
        # the item in hand, up to two waiting, and one the reader holds while it waits
        assert len(produced) <= len(seen) + 3
    assert seen == list(range(6))


def test_a_readers_error_is_raised_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("row 3 is unreadable")

    seen = []
    with pytest.raises(ValueError, match="row 3 is unreadable"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_caller_that_stops_early_stops_the_reader():
    def items():
        i = 0
        while True:
            yield i
            i += 1

    before = threading.active_count()
    reader = read_ahead(items())
    assert next(reader) == 0
    reader.close()
    assert threading.active_count() == before


def test_the_reading_happens_on_another_thread():
    threads = []

    def items():
        threads.append(threading.current_thread())
        yield 1

    assert list(read_ahead(items())) == [1]
    assert threads[0] is not threading.current_thread()
