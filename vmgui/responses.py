"""HTTP helpers every face uses to send call media: downloads and seekable files (HTTP Range).

Faces (legacy endpoints, REST API, GUI, share pages) share these so that a file answers the
same everywhere; they never import each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)

from cdr.media.service import MediaFile

# At most 18 digits a side (a larger offset cannot exist; int() of thousands of digits fails).
_RANGE: Final = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
# A download's first bytes are read before answering, so that a damaged or truncated spool
# file (the usual case: small SIP pcaps) is refused with the face's error answer. Damage found
# later can only end the transfer early (the status line has been sent); the server logs it.
PREFETCH_BYTES: Final = 4 << 20


def attachment(response: HttpResponseBase, filename: str) -> HttpResponseBase:
    """Mark ``response`` as a download named ``filename``."""
    # Names only contain [A-Za-z0-9.@_-] (cdr.media.service.download_name): no quoting issues.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def stream_download(chunks: Iterator[bytes], content_type: str, filename: str) -> HttpResponseBase:
    """A streamed download (memory stays flat whatever its size)."""
    return attachment(StreamingHttpResponse(chunks, content_type=content_type), filename)


def _limited(fh, length: int, size: int = 1 << 20) -> Iterator[bytes]:
    try:
        while length > 0:
            chunk = fh.read(min(size, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        fh.close()


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """(first, last) of a single ``Range: bytes=`` request, "unsatisfiable", or None (all)."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None  # several ranges or another unit: answer with the whole file (RFC 9110)
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def file_response(request: HttpRequest, item: MediaFile) -> HttpResponseBase:
    """A file with HTTP Range support (206 Partial Content) so players can seek."""
    wanted = byte_range(request.META.get("HTTP_RANGE"), item.size)
    if wanted == "unsatisfiable":
        item.file.close()
        response: HttpResponseBase = HttpResponse(status=416, content_type=item.content_type)
        response["Content-Range"] = f"bytes */{item.size}"
    elif wanted is None:
        response = FileResponse(item.file, content_type=item.content_type)
        response["Content-Length"] = str(item.size)
    else:
        first, last = wanted
        item.file.seek(first)
        length = last - first + 1
        response = StreamingHttpResponse(
            _limited(item.file, length), status=206, content_type=item.content_type
        )
        response["Content-Range"] = f"bytes {first}-{last}/{item.size}"
        response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    return attachment(response, item.filename)


def prefetched(chunks: Iterator[bytes], limit: int = PREFETCH_BYTES) -> Iterator[bytes]:
    """``chunks`` with up to ``limit`` bytes read now (their errors raise here)."""
    source = iter(chunks)
    head: list[bytes] = []
    size = 0
    for chunk in source:
        head.append(chunk)
        size += len(chunk)
        if size >= limit:
            break

    def rest() -> Iterator[bytes]:
        yield from head
        yield from source

    return rest()
