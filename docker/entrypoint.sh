#!/bin/sh
# Container entrypoint: `serve`, `bot`, `token`, `loadtest` or flags go to the
# roomtone CLI; anything else (a shell, say) runs as given.
set -eu

case "${1:-serve}" in
  serve | bot | token | loadtest | -*)
    if [ "${1:-serve}" = serve ] && [ "${MEDIA_TRANSPORT:-ws}" = sfu ] && [ -z "${SFU_ANNOUNCED_IP:-}" ]; then
      echo "roomtone-entrypoint: MEDIA_TRANSPORT=sfu without SFU_ANNOUNCED_IP: browsers outside" \
        "this host cannot reach the container's private address (see docs/DEPLOY.md)" >&2
    fi
    [ "$#" -gt 0 ] || set -- serve
    exec roomtone "$@"
    ;;
  *)
    exec "$@"
    ;;
esac
