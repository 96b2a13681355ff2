import { useCallback, useState, type CSSProperties } from 'react';
import type { CallSession, CallState } from '../call/session';
import type { Strings } from '../lib/i18n';
import { askForNotifications, declineNotifications, shouldOfferNotifications } from '../lib/notifications';
import { Controls } from './Controls';
import { ErrorBanner } from './ErrorBanner';
import { statusText } from './statusText';
import { LocalTile, RemoteTile } from './VideoTile';

interface Props {
  strings: Strings;
  state: CallState;
  session: CallSession;
}

function columns(count: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}

export function CallScreen({ strings, state, session }: Props) {
  const [offerNotifications, setOfferNotifications] = useState(shouldOfferNotifications);
  // Phone landscape hides header and controls; a tap on the videos brings the controls back.
  const [overlay, setOverlay] = useState(false);
  const attach = useCallback((peerId: string, video: HTMLVideoElement | null) => session.attachVideo(peerId, video), [session]);
  const others = state.participants.length;
  const hasCamera = (state.localStream?.getVideoTracks().length ?? 0) > 0;
  const gridStyle = { '--cols': columns(others), '--cols-portrait': others <= 2 ? 1 : 2 } as CSSProperties;

  const enableNotifications = () => {
    setOfferNotifications(false);
    void askForNotifications();
  };
  const dismissNotifications = () => {
    setOfferNotifications(false);
    declineNotifications();
  };

  return (
    <div className={`call${others > 0 ? ' has-others' : ' alone'}${overlay ? ' overlay' : ''}`} data-phase={state.phase}>
      <header className="call-header" data-testid="call-header">
        <h1>{strings.title}</h1>
        <span className="count" data-testid="participant-count" data-count={others + 1}>
          {strings.participants(others + 1)}
        </span>
        {offerNotifications && (
          <span className="notify">
            <button type="button" className="link" data-testid="notify-button" onClick={enableNotifications}>
              {strings.enableNotifications}
            </button>
            <button type="button" className="link" aria-label={strings.dismiss} onClick={dismissNotifications}>
              ×
            </button>
          </span>
        )}
      </header>
      <p className={`status ${state.phase}`} data-testid="status" role="status">
        {statusText(strings, state)}
      </p>
      <ErrorBanner strings={strings} error={state.error} onDismiss={() => session.dismissError()} />
      {state.playbackBlocked && (
        <button type="button" className="sound" data-testid="sound-button" onClick={() => session.resumePlayback()}>
          {strings.enableSound}
        </button>
      )}
      <section className="stage" data-testid="video-grid" onClick={() => setOverlay((v) => !v)}>
        <div className="grid" style={gridStyle}>
          {state.participants.map((p) => (
            <RemoteTile key={p.id} participant={p} attach={attach} />
          ))}
          {others === 0 && <p className="waiting">{strings.waiting}</p>}
        </div>
        <LocalTile stream={state.localStream} label={strings.you} camOn={state.camOn} pip={others > 0} />
      </section>
      <Controls
        strings={strings}
        micOn={state.micOn}
        camOn={state.camOn}
        hasCamera={hasCamera}
        onToggleMic={() => session.toggleMic()}
        onToggleCamera={() => session.toggleCamera()}
        onLeave={() => session.leave()}
      />
    </div>
  );
}
