// GET /config before joining: the server's media mode decides what the browser must support.

import { useEffect, useState } from 'react';
import { isMediaTransport, type MediaTransportKind } from '../protocol/messages';

export interface ServerConfig {
  status: 'loading' | 'ready' | 'failed';
  mode: MediaTransportKind | null;
  maxParticipants: number | null;
  /** With auth on, this page's address is no invitation (null: an older server did not say). */
  authEnabled: boolean | null;
}

export function parseServerConfig(value: unknown): Omit<ServerConfig, 'status'> {
  const obj = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return {
    mode: isMediaTransport(obj.mediaTransport) ? obj.mediaTransport : null,
    maxParticipants: typeof obj.maxParticipants === 'number' ? obj.maxParticipants : null,
    authEnabled: typeof obj.authEnabled === 'boolean' ? obj.authEnabled : null,
  };
}

export function useServerConfig(): ServerConfig {
  const [config, setConfig] = useState<ServerConfig>({
    status: 'loading',
    mode: null,
    maxParticipants: null,
    authEnabled: null,
  });
  useEffect(() => {
    let cancelled = false;
    fetch('/config', { credentials: 'same-origin', cache: 'no-store' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then((json: unknown) => {
        if (!cancelled) setConfig({ status: 'ready', ...parseServerConfig(json) });
      })
      .catch(() => {
        // An older server without /config: the mode is checked again on `welcome`.
        if (!cancelled) setConfig({ status: 'failed', mode: null, maxParticipants: null, authEnabled: null });
      });
    return () => {
      cancelled = true;
    };
  }, []);
  return config;
}
