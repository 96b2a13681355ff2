"""EBML primitives: variable-length integers, element headers, children of a buffered element.

Kept apart from the WebM stream logic so the limits the EBML spec sets (IDs of
at most 4 bytes, sizes of at most 8) are enforced in one place, for every read.
"""

from __future__ import annotations

from collections.abc import Iterator

MAX_ID_LENGTH = 4  # EBMLMaxIDLength default


class WebmError(ValueError):
    """The input is not a WebM stream this parser can follow."""


def read_vint(
    data: bytes | bytearray, pos: int, end: int, *, keep_marker: bool
) -> tuple[int, int, bool] | None:
    """(value, length, all_ones) of the variable-length integer at `pos`, or None if cut off.

    IDs keep their length marker (`keep_marker`); sizes and track numbers do not.
    Raises WebmError when the first byte is 0: a length beyond 8 (EBMLMaxSizeLength).
    """
    if pos >= end:
        return None
    first = data[pos]
    if first == 0:
        raise WebmError("invalid variable-length integer (first byte 0)")
    length = 9 - first.bit_length()
    if pos + length > end:
        return None
    value = int.from_bytes(data[pos : pos + length], "big")
    data_bits = 7 * length
    payload = value & ((1 << data_bits) - 1)
    all_ones = payload == (1 << data_bits) - 1
    return (value if keep_marker else payload), length, all_ones


# The two reserved IDs of each length: all value bits zero, all value bits one.
_RESERVED_IDS = frozenset(
    value for n in range(1, MAX_ID_LENGTH + 1) for value in (1 << 7 * n, (1 << 8 * n - n + 1) - 1)
)


def read_header(data: bytes | bytearray, pos: int, end: int) -> tuple[int, int | None, int] | None:
    """(element id, size or None if unknown, header length) at `pos`, or None if cut off.

    Called for every element the relay walks, so the two variable-length
    integers are decoded inline rather than through `read_vint`.
    """
    if pos >= end:
        return None
    first = data[pos]
    if first == 0:
        raise WebmError("invalid variable-length integer (first byte 0)")
    id_length = 9 - first.bit_length()
    size_at = pos + id_length
    if size_at > end:
        return None
    if id_length > MAX_ID_LENGTH:
        raise WebmError(f"element ID of {id_length} bytes (at most {MAX_ID_LENGTH})")
    element_id = first if id_length == 1 else int.from_bytes(data[pos:size_at], "big")
    if element_id in _RESERVED_IDS:
        raise WebmError(f"reserved element ID 0x{element_id:X}")
    if size_at >= end:
        return None
    second = data[size_at]
    if second == 0:
        raise WebmError("invalid variable-length integer (first byte 0)")
    size_length = 9 - second.bit_length()
    body = size_at + size_length
    if body > end:
        return None
    if size_length == 1:
        size = second & 0x7F
        unknown = size == 0x7F
    else:
        mask = (1 << 7 * size_length) - 1
        size = int.from_bytes(data[size_at:body], "big") & mask
        unknown = size == mask
    return element_id, (None if unknown else size), body - pos


def iter_children(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, data start, data end) of each child of a complete master element's body."""
    pos = start
    while pos < end:
        header = read_header(data, pos, end)
        if header is None:
            raise WebmError("truncated child element")
        element_id, size, header_length = header
        if size is None:
            raise WebmError(f"unknown-size child element 0x{element_id:X}")
        body = pos + header_length
        if body + size > end:
            raise WebmError(f"element 0x{element_id:X} overruns its parent")
        yield element_id, body, body + size
        pos = body + size


def read_uint(data: bytes | bytearray, start: int, end: int) -> int:
    if end - start > 8:
        raise WebmError("unsigned integer longer than 8 bytes")
    return int.from_bytes(data[start:end], "big")
