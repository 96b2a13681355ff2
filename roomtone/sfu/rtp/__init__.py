"""RTP and RTCP wire formats, as the packet path needs them: plain functions on bytes.

- `header`: the RTP fixed header, header extensions (RFC 8285), RTX (RFC 4588).
- `extensions`: the extension URIs the SFU understands and one connection's ids.
- `vp8`: the VP8 payload descriptor (RFC 7741): keyframes, picture id, TL0PICIDX.
- `rtcp`: parsing compound RTCP and building the packets the SFU sends.

Nothing here knows about aiortc, sockets or sessions; everything is unit-tested
against hand-built packets (tests/unit/test_sfu_rtp.py).
"""
