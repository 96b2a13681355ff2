"""A subscriber line's numbers from the negotiated SDP, and the RTP header writers they make.

Kept apart from the line (outbound.py) because they change only when an
offer/answer completes (downlink.py builds them), never per packet: the line
swaps in new writers when the numbers differ and otherwise keeps its own.
"""

from __future__ import annotations

from roomtone.sfu.rtp import header
from roomtone.sfu.rtp.header import HeaderPacker


class Negotiated:
    """A line's numbers from the negotiated SDP."""

    __slots__ = ("abs_id", "mid", "mid_id", "pt", "rtx_pt", "rtx_ssrc", "ssrc", "tcc_id")

    def __init__(
        self,
        ssrc: int,
        pt: int,
        *,
        rtx_ssrc: int | None = None,
        rtx_pt: int | None = None,
        mid: str = "",
        mid_id: int = 0,
        abs_id: int = 0,
        tcc_id: int = 0,
    ) -> None:
        self.ssrc, self.pt, self.rtx_ssrc, self.rtx_pt = ssrc, pt, rtx_ssrc, rtx_pt
        self.mid, self.mid_id, self.abs_id, self.tcc_id = mid, mid_id, abs_id, tcc_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Negotiated) and all(
            getattr(self, name) == getattr(other, name) for name in self.__slots__
        )

    def header_writers(self) -> tuple[HeaderPacker, int, HeaderPacker | None]:
        """The media stream's header packer and its size, and the RTX stream's (None: no RTX)."""
        pack, size = self._writer(self.ssrc)
        rtx_pack = None
        if self.rtx_ssrc is not None and self.rtx_pt is not None:
            rtx_pack, _ = self._writer(self.rtx_ssrc)
        return pack, size, rtx_pack

    def _writer(self, ssrc: int) -> tuple[HeaderPacker, int]:
        return header.header_writer(
            ssrc, mid_id=self.mid_id, mid=self.mid, abs_id=self.abs_id, tcc_id=self.tcc_id
        )
