"""Per-subscriber bandwidth: TWCC feedback, the send-side estimate, probing, pacing, layer choice.

Pure logic: no sockets, no aiortc, no asyncio. Time is passed in (seconds,
`time.monotonic()` in the server, a simulated clock in tests) and the pacer
schedules through a function it is given. The packet path (roomtone/sfu)
feeds these with what it sends and the feedback it receives.
"""
