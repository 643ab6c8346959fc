"""CSV written as a stream of byte chunks, for downloads of any size (every face's CSV export).

Rows are plain dicts; the header is the given field names (or the first row's keys). Output is
buffered up to ``CHUNK_BYTES`` before each chunk is yielded, so memory stays flat whatever the
number of rows; the rows themselves should come from a streaming source
(``cdr.query.cursor.keyset_rows``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

CHUNK_BYTES = 1 << 16


def csv_chunks(
    rows: Iterable[Mapping], fieldnames: Sequence[str] | None = None, *, header: bool = True
) -> Iterator[bytes]:
    """UTF-8 CSV of ``rows``; keys not in ``fieldnames`` are left out, missing ones are empty.

    Without ``fieldnames`` the first row's keys are the columns (no rows: an empty body).
    """
    buffer = io.StringIO()
    writer = None
    if fieldnames is not None:
        writer = csv.DictWriter(buffer, fieldnames=list(fieldnames), extrasaction="ignore")
        if header:
            writer.writeheader()
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), extrasaction="ignore")
            if header:
                writer.writeheader()
        writer.writerow(row)
        if buffer.tell() > CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
    elif writer is None:
        yield b""
