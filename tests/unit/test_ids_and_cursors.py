"""Ids are time-ordered and unique; cursors reject anything the server did not hand out."""

import threading

import pytest

from townhall.domain.errors import Invalid
from townhall.domain.pagination import MAX_PAGE_SIZE, check_limit, decode_cursor, encode_cursor
from townhall.ids import IdGenerator, id_for_time_ms


def test_ids_increase_and_never_repeat_across_threads() -> None:
    generator = IdGenerator(node_id=3)
    results: list[list[int]] = [[] for _ in range(4)]

    def work(bucket: list[int]) -> None:
        bucket.extend(generator.next_id() for _ in range(5000))

    threads = [threading.Thread(target=work, args=(bucket,)) for bucket in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [i for bucket in results for i in bucket]
    assert len(set(everything)) == len(everything)
    for bucket in results:
        assert bucket == sorted(bucket)


def test_ids_made_later_sort_later() -> None:
    assert id_for_time_ms(1_800_000_000_000) < id_for_time_ms(1_800_000_000_001)
    assert IdGenerator().next_id() < 2**63


def test_node_ids_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        IdGenerator(node_id=1024)


@pytest.mark.parametrize("cursor", ["abc", "-5", "1.5", "9" * 20, "9" * 19, "١٢"])
def test_foreign_cursors_are_a_validation_error(cursor: str) -> None:
    with pytest.raises(Invalid):
        decode_cursor(cursor)


def test_cursors_round_trip() -> None:
    assert decode_cursor(encode_cursor(12345)) == 12345
    assert decode_cursor(None) is None


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_page_sizes_are_bounded(limit: int) -> None:
    with pytest.raises(Invalid):
        check_limit(limit)
