// The call session as React state, plus the debug handle the browser tests use.

import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { browserDeps } from '../call/deps';
import { CallSession, type CallState } from '../call/session';
import type { Strings } from '../lib/i18n';
import { notifyIfHidden } from '../lib/notifications';
import { IN_CALL_KEY, local, NAME_KEY, session as sessionStore } from '../lib/storage';
import type { ServerConfig } from './useServerConfig';

declare global {
  interface Window {
    __roomtone?: {
      state(): CallState;
      debug(): Promise<unknown>;
    };
  }
}

export function useCall(config: ServerConfig, strings: Strings): { session: CallSession; state: CallState } {
  const configRef = useRef(config);
  configRef.current = config;
  const stringsRef = useRef(strings);
  stringsRef.current = strings;
  const [session] = useState(
    () =>
      new CallSession(
        {
          configuredMode: () => configRef.current.mode,
          onPeerJoined: (peer) =>
            notifyIfHidden(stringsRef.current.notifyJoinedTitle, stringsRef.current.notifyJoinedBody(peer.name)),
        },
        browserDeps,
      ),
  );
  const state = useSyncExternalStore(session.subscribe, session.getSnapshot);

  useEffect(() => {
    window.__roomtone = { state: () => session.getSnapshot(), debug: () => session.debug() };
    return () => {
      delete window.__roomtone;
    };
  }, [session]);

  return { session, state };
}

/** A reload during a call (same tab) rejoins it under the same name. */
export function useRejoinAfterReload(session: CallSession, config: ServerConfig, canJoin: boolean): void {
  const done = useRef(false);
  useEffect(() => {
    if (done.current || config.status === 'loading') return;
    done.current = true;
    const name = local.get(NAME_KEY);
    if (sessionStore.get(IN_CALL_KEY) === '1' && name && canJoin) void session.join(name);
  }, [session, config.status, canJoin]);
}
