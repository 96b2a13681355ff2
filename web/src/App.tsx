import { useMemo } from 'react';
import { useCall, useRejoinAfterReload } from './hooks/useCall';
import { useServerConfig } from './hooks/useServerConfig';
import { missingFeatures } from './lib/compat';
import { stringsFor } from './lib/i18n';
import { local, NAME_KEY } from './lib/storage';
import { CallScreen } from './ui/CallScreen';
import { JoinScreen } from './ui/JoinScreen';

export function App() {
  const strings = useMemo(() => stringsFor(navigator.language), []);
  const config = useServerConfig();
  const { session, state } = useCall(config, strings);
  const missing = useMemo(
    () => (config.status === 'loading' ? [] : missingFeatures(window as never, config.mode)),
    [config.status, config.mode],
  );
  useRejoinAfterReload(session, config, missing.length === 0);

  if (state.phase === 'idle') {
    return (
      <JoinScreen
        strings={strings}
        initialName={local.get(NAME_KEY) ?? ''}
        checking={config.status === 'loading'}
        missing={missing}
        mode={config.mode}
        error={state.error}
        onJoin={(name, media) => void session.join(name, media ?? undefined)}
        onDismissError={() => session.dismissError()}
      />
    );
  }
  return <CallScreen strings={strings} state={state} session={session} authEnabled={config.authEnabled} />;
}
