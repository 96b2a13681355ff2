#!/usr/bin/env bash
# Run a command in a private network namespace that has only loopback, so no test
# can send a packet off this machine (aiortc's default STUN server, ICE checks to
# the host's own interface addresses). aioice skips only 127.0.0.1 when gathering
# host candidates, so 127.0.0.2 on lo gives every WebRTC peer a loopback candidate;
# Chromium is started with --allow-loopback-in-peer-connection for the same reason.
# Without unshare/ip (not root, no iproute2) the command runs as it is, with a warning.
set -euo pipefail
if [ "${ROOMTONE_ISOLATED:-}" != 1 ] && command -v unshare >/dev/null && command -v ip >/dev/null \
    && unshare --net true 2>/dev/null; then
  exec unshare --net env ROOMTONE_ISOLATED=1 bash -c \
    'ip link set lo up && ip addr add 127.0.0.2/8 dev lo && exec "$@"' isolated "$@"
fi
if [ "${ROOMTONE_ISOLATED:-}" != 1 ]; then
  echo "warning: cannot create a network namespace (needs root and iproute2);" \
       "WebRTC tests will use this machine's interface addresses" >&2
fi
exec "$@"
