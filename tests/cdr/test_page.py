"""A page of engine rows held as columns (cdr.query.page, issue 19).

Faces that shape by columns read the columns; every other caller sees the list of row dicts
a page always was.
"""

from __future__ import annotations

from cdr.query.columns import Out, shape
from cdr.query.page import Capped, Page


def page() -> Page:
    return Page(
        {"ID": (1, 2, 3), "caller": ["a", "b", "c"], "sensorname": None},
        3,
        [("X-A", ["x1", None, "x3"])],
    )


def test_a_page_is_the_list_of_its_row_dicts():
    rows = page()
    assert len(rows) == 3
    assert rows[1] == {"ID": 2, "caller": "b", "sensorname": None, "custom_headers": {"X-A": None}}
    assert [r["ID"] for r in rows] == [1, 2, 3]
    assert rows == [dict(r) for r in page()]
    assert list(rows[0]) == ["ID", "caller", "sensorname", "custom_headers"]


def test_a_none_column_is_none_in_every_row_and_a_missing_key_is_no_column():
    rows = page()
    assert rows.column("sensorname") == [None, None, None]
    assert rows.column("a_ua") is None
    assert rows.header("X-A") == ["x1", None, "x3"]
    assert rows.header("X-Other") == [None, None, None]


def test_a_slice_of_a_page_is_a_page_of_those_rows():
    part = page()[1:]
    assert isinstance(part, Page)
    assert len(part) == 2
    assert part.column("caller") == ["b", "c"]
    assert part.header("X-A") == [None, "x3"]
    assert part == page().rows()[1:]


def test_rows_changed_by_a_caller_are_the_page_from_then_on():
    rows = page()
    rows[0]["caller"] = "changed"
    assert rows.column("caller") == ["changed", "b", "c"]
    assert shape(rows, [Out("who", "caller")])[0] == {"who": "changed"}
    assert rows[:1].column("caller") == ["changed"]


def test_shape_reads_a_page_by_columns_with_the_same_answer_as_its_rows():
    spec = [Out("id", "ID"), Out("who", "caller"), Out("sensor", "sensorname"), Out("ua", "a_ua")]
    assert shape(page(), spec) == shape(page().rows(), spec)
    assert shape(page(), spec)[2] == {"id": 3, "who": "c", "sensor": None, "ua": None}


def test_an_empty_page_is_an_empty_list():
    assert Page({}, 0) == []
    assert not Page({}, 0)
    assert shape(Page({}, 0), [Out("id", "ID")]) == []


# --- Capped: the first rows of a stream of pages --------------------------------------------


class _Stream:
    """Pages of 2, 2 and 1 rows, remembering whether it was closed."""

    def __init__(self) -> None:
        self.closed = False
        self._pages = iter([Page({"ID": [1, 2]}, 2), Page({"ID": [3, 4]}, 2), Page({"ID": [5]}, 1)])

    def __iter__(self):
        return self

    def __next__(self) -> Page:
        return next(self._pages)

    def close(self) -> None:
        self.closed = True


def ids(pages) -> list[list[int]]:
    return [[row["ID"] for row in page] for page in pages]


def test_capped_gives_every_row_below_its_limit_and_says_there_is_no_more():
    for limit in (5, 6, None):
        stream = _Stream()
        capped = Capped(stream, limit)
        assert ids(capped) == [[1, 2], [3, 4], [5]]
        assert (capped.shown, capped.more, stream.closed) == (5, False, True)


def test_capped_cuts_a_page_at_its_limit_and_says_there_is_more():
    stream = _Stream()
    capped = Capped(stream, 3)
    assert ids(capped) == [[1, 2], [3]]
    assert (capped.shown, capped.more, stream.closed) == (3, True, True)


def test_capped_at_a_page_boundary_reads_one_row_further_to_know():
    stream = _Stream()
    capped = Capped(stream, 4)
    assert ids(capped) == [[1, 2], [3, 4]]
    assert (capped.shown, capped.more, stream.closed) == (4, True, True)


def test_capped_closes_the_stream_when_its_reader_stops_or_fails():
    stream = _Stream()
    for _ in Capped(stream, None):
        break
    assert stream.closed
    stream, kept = _Stream(), []
    try:
        with Capped(stream, None) as capped:
            for _ in capped:
                raise ValueError("the reader failed")
    except ValueError as exc:
        kept.append(exc)  # its traceback keeps the suspended iteration alive
    assert stream.closed
