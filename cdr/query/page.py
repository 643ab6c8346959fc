"""A page of engine rows held as columns (issue 19).

The engine reads a page as driver tuples and converts it a column at a time; a face that
declares its answer by columns (``cdr.query.columns.shape``) reads those columns directly,
so no engine row dict is built for it (a 60-key dict per row cost about as much as the
answer's own dict). Everything else uses the page as the list of row dicts it always was:
indexing or iterating builds them once, and from then on they are the page (a caller may
change them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any, overload


class Page(Sequence[dict]):
    """``length`` engine rows as ``columns`` {row key: values}, plus custom header columns.

    A column of ``None`` stands for a key every row has as None (a look-up table this
    database lacks). ``headers`` [(name, values)] become each row's ``custom_headers`` dict,
    in that order.
    """

    __slots__ = ("_columns", "_headers", "_length", "_rows")

    def __init__(
        self,
        columns: Mapping[str, Sequence[Any] | None],
        length: int,
        headers: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> None:
        self._columns = dict(columns)
        self._headers = list(headers)
        self._length = length
        self._rows: list[dict] | None = None

    @classmethod
    def of_rows(cls, rows: list[dict]) -> Page:
        """A page of ready row dicts (the engine's fallback path builds them one by one)."""
        page = cls({}, len(rows))
        page._rows = rows
        return page

    def __len__(self) -> int:
        return self._length

    def column(self, key: str) -> Sequence[Any] | None:
        """The values of ``key``, one per row; None when the rows have no such key."""
        if self._rows is not None:  # the row dicts are the page now
            if not self._rows or key not in self._rows[0]:
                return None
            return [row.get(key) for row in self._rows]
        if key not in self._columns:
            return None
        values = self._columns[key]
        return [None] * self._length if values is None else values

    def columns_of(self, keys: Sequence[str]) -> dict[str, Sequence[Any]]:
        """{key: its values} of the ``keys`` the rows have (``column`` for each, at once)."""
        if self._rows is not None:
            found = {key: self.column(key) for key in keys}
            return {key: values for key, values in found.items() if values is not None}
        columns, nones = self._columns, None
        out = {}
        for key in keys:
            if key in columns:
                values = columns[key]
                if values is None:
                    values = nones = nones or [None] * self._length
                out[key] = values
        return out

    def keys(self) -> list[str]:
        """The row keys (``custom_headers`` aside), in row order."""
        if self._rows is not None:
            first = self._rows[0] if self._rows else {}
            return [key for key in first if key != "custom_headers"]
        return list(self._columns)

    def header_names(self) -> list[str]:
        """The custom headers of each row's ``custom_headers``, in order."""
        if self._rows is not None:
            return list((self._rows[0].get("custom_headers") or {}) if self._rows else ())
        return [name for name, _ in self._headers]

    def header(self, name: str) -> Sequence[Any]:
        """The values of custom header ``name`` (None where a row has none)."""
        if self._rows is not None:
            return [(row.get("custom_headers") or {}).get(name) for row in self._rows]
        for key, values in self._headers:
            if key == name:
                return values
        return [None] * self._length

    def rows(self) -> list[dict]:
        """The page as row dicts (built once; they are the page from then on)."""
        if self._rows is None:
            keys = list(self._columns)
            values = [repeat(None) if v is None else v for v in self._columns.values()]
            # zip stops at the real columns (``ID`` is always one); None columns repeat
            rows = [dict(zip(keys, row, strict=False)) for row in zip(*values, strict=False)]
            names = [name for name, _ in self._headers]
            if names:
                header_rows = zip(*(v for _, v in self._headers), strict=True)
                for row, found in zip(rows, header_rows, strict=True):
                    row["custom_headers"] = dict(zip(names, found, strict=True))
            else:
                for row in rows:
                    row["custom_headers"] = {}
            self._rows = rows
        return self._rows

    @overload
    def __getitem__(self, index: int) -> dict: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[dict]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            if self._rows is not None:
                return Page.of_rows(self._rows[index])
            length = len(range(*index.indices(self._length)))
            columns = {k: None if v is None else v[index] for k, v in self._columns.items()}
            return Page(columns, length, [(name, v[index]) for name, v in self._headers])
        return self.rows()[index]

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Page | list | tuple):
            return self.rows() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a page is mutable, as a list is

    def __repr__(self) -> str:
        return f"Page({self._length} rows)"


class Capped:
    """The pages of ``pages`` up to ``limit`` rows in all (None: every row).

    Iterate it once; then ``shown`` is the number of rows it gave and ``more`` whether
    ``pages`` went on beyond ``limit`` (read ``limit + 1`` rows to know). ``pages`` is
    closed when the iteration ends and, used as a context manager, when the block is left,
    however it is left: the engine may stream them from an unbuffered cursor that holds the
    connection until then (``cdr.query.rows``). A reader that fails between two pages leaves
    a suspended iteration behind, which its traceback keeps alive: only the ``with`` closes
    the stream at once, before the caller's next statement needs the connection.
    """

    def __init__(self, pages: Iterable[Sequence[dict]], limit: int | None) -> None:
        self._pages = pages
        self.limit = limit
        self.shown = 0
        self.more = False

    def __iter__(self) -> Iterator[Sequence[dict]]:
        try:
            for page in self._pages:
                if self.limit is not None and self.shown + len(page) > self.limit:
                    page = page[: self.limit - self.shown]
                    self.more = True
                if page:
                    self.shown += len(page)
                    yield page
                if self.more:
                    return
        finally:
            self.close()

    def close(self) -> None:
        """Close ``pages`` (the rest of a streamed result is discarded)."""
        close = getattr(self._pages, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Capped:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Memo(dict):
    """value → ``fn(value)``, computed on first use."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        super().__init__()
        self.fn = fn

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.fn(key)
        return value


_MEMO_FROM = 16  # rows


def map_distinct(fn: Callable[[Any], Any], column: Sequence[Any]) -> list:
    """``[fn(v) for v in column]`` with ``fn`` called once per distinct value.

    A page's columns repeat their values (the same addresses, names, user agents, MOS
    values), so most values cost one dict look-up. Values that are equal must have equal
    results: callers pass columns of one type (the driver's values of one column), where
    equal means the same. A column with an unhashable value is mapped value by value, and
    so is a short one (a one-row answer), where the memo would cost more than it saves.
    """
    if len(column) < _MEMO_FROM:
        return [fn(v) for v in column]
    memo = _Memo(fn)
    try:
        return list(map(memo.__getitem__, column))
    except TypeError:
        return [fn(v) for v in column]


# The types of an integer column as the driver gives it (NULL is None).
INTS = frozenset({int, type(None)})


def map_ints(fn: Callable[[Any], Any], column: Sequence[Any]) -> list:
    """``map_distinct`` of a column of ints and NULLs, else ``fn`` of each value.

    Only there are equal values the same value: in a mixed column 45 and Decimal("45") are
    equal but ``fn`` may give them different results. A short column is mapped value by
    value without looking at its types.
    """
    if len(column) >= _MEMO_FROM and set(map(type, column)) <= INTS:
        return map_distinct(fn, column)
    return [fn(v) for v in column]
