#!/usr/bin/env bash
# Run a command in a private network namespace, so no test can send a packet off
# this machine (aiortc's default STUN server, ICE checks to the host's own
# interface addresses). Inside it:
# - loopback, plus 127.0.0.2: aioice skips only 127.0.0.1 when gathering host
#   candidates, so 127.0.0.2 gives every aiortc peer a loopback candidate;
#   Chromium is started with --allow-loopback-in-peer-connection for the same reason;
# - a veth pair, rt0 (192.0.2.1, TEST-NET-1) and rt1, with the default route over
#   rt0: Firefox gathers no loopback candidates at all, and nothing without a
#   default route. Both ends stay in this namespace, so whatever takes the default
#   route ends at rt1, where nothing answers.
# Without unshare/ip (not root, no iproute2) the command runs as it is, with a warning.
set -euo pipefail
if [ "${ROOMTONE_ISOLATED:-}" != 1 ] && command -v unshare >/dev/null && command -v ip >/dev/null \
    && unshare --net true 2>/dev/null; then
  exec unshare --net env ROOMTONE_ISOLATED=1 bash -c '
    set -e
    ip link set lo up
    ip addr add 127.0.0.2/8 dev lo
    ip link add rt0 type veth peer name rt1
    for end in rt0 rt1; do
      echo 1 > /proc/sys/net/ipv6/conf/$end/disable_ipv6
      ip link set $end up
    done
    ip addr add 192.0.2.1/24 dev rt0
    ip route add default dev rt0
    exec "$@"' isolated "$@"
fi
if [ "${ROOMTONE_ISOLATED:-}" != 1 ]; then
  echo "warning: cannot create a network namespace (needs root and iproute2);" \
       "WebRTC tests will use this machine's interface addresses" >&2
fi
exec "$@"
