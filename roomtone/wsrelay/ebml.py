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


def read_header(data: bytes | bytearray, pos: int, end: int) -> tuple[int, int | None, int] | None:
    """(element id, size or None if unknown, header length) at `pos`, or None if cut off."""
    id_vint = read_vint(data, pos, end, keep_marker=True)
    if id_vint is None:
        return None
    element_id, id_length, id_all_ones = id_vint
    if id_length > MAX_ID_LENGTH:
        raise WebmError(f"element ID of {id_length} bytes (at most {MAX_ID_LENGTH})")
    if id_all_ones or element_id == 1 << (7 * id_length):
        raise WebmError(f"reserved element ID 0x{element_id:X}")
    size_vint = read_vint(data, pos + id_length, end, keep_marker=False)
    if size_vint is None:
        return None
    size, size_length, unknown = size_vint
    return element_id, (None if unknown else size), id_length + size_length


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
