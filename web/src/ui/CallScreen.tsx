import { useCallback, useState, type CSSProperties } from 'react';
import { canShareScreen } from '../call/localMedia';
import { screenSharer } from '../call/presence';
import type { CallSession, CallState } from '../call/session';
import type { Strings } from '../lib/i18n';
import { askForNotifications, declineNotifications, shouldOfferNotifications } from '../lib/notifications';
import { screenKey } from '../transports/peerVideos';
import { Controls } from './Controls';
import { DeviceSettings } from './DeviceSettings';
import { ErrorBanner } from './ErrorBanner';
import { InviteButton } from './InviteButton';
import { statusText } from './statusText';
import { StreamVideo } from './StreamVideo';
import { LocalTile, RemoteTile, ScreenTile } from './VideoTile';

interface Props {
  strings: Strings;
  state: CallState;
  session: CallSession;
  authEnabled: boolean | null;
}

function columns(count: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(count)));
}

export function CallScreen({ strings, state, session, authEnabled }: Props) {
  const [offerNotifications, setOfferNotifications] = useState(shouldOfferNotifications);
  const [devicesOpen, setDevicesOpen] = useState(false);
  // Phone landscape hides header and controls; a tap on the videos brings the controls back.
  const [overlay, setOverlay] = useState(false);
  const attach = useCallback((key: string, video: HTMLVideoElement | null) => session.attachVideo(key, video), [session]);
  const sharer = screenSharer(state.participants);
  // ws mode records the screen instead of the camera: the sharer's own tile becomes the large one.
  const screenInline = state.mode === 'ws';
  const others = state.participants.length;
  const gridStyle = { '--cols': columns(others), '--cols-portrait': others <= 2 ? 1 : 2 } as CSSProperties;
  const sharing = state.screenStream !== null;
  // The strip under a shared screen: every tile but the screen's, and ours.
  const stageStyle = { '--n': others + 1 - (sharer && screenInline ? 1 : 0) } as CSSProperties;

  const enableNotifications = () => {
    setOfferNotifications(false);
    void askForNotifications();
  };
  const dismissNotifications = () => {
    setOfferNotifications(false);
    declineNotifications();
  };

  const layout = `call${others > 0 ? ' has-others' : ' alone'}${overlay ? ' overlay' : ''}${sharer ? ' presenting' : ''}`;
  return (
    <div className={layout} data-phase={state.phase}>
      <header className="call-header" data-testid="call-header">
        <h1>{strings.title}</h1>
        <span className="count" data-testid="participant-count" data-count={others + 1}>
          {strings.participants(others + 1)}
        </span>
        <InviteButton strings={strings} authEnabled={authEnabled} />
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
      <p className={`status ${state.phase}`} data-testid="status" role="status" data-quality={state.quality ?? ''}>
        {statusText(strings, state)}
      </p>
      <ErrorBanner strings={strings} error={state.error} onDismiss={() => session.dismissError()} />
      {state.notice && (
        <p className="notice call-notice" role="status" data-testid="media-notice" data-notice={state.notice}>
          {strings.notice[state.notice]}
        </p>
      )}
      {sharing && (
        <div className="sharing" data-testid="sharing-banner">
          <StreamVideo stream={state.screenStream} testId="own-screen" />
          <span>{strings.youAreSharing}</span>
          <button type="button" className="link" onClick={() => void session.toggleScreen()}>
            {strings.stopSharing}
          </button>
        </div>
      )}
      {state.playbackBlocked && (
        <button type="button" className="sound" data-testid="sound-button" onClick={() => session.resumePlayback()}>
          {strings.enableSound}
        </button>
      )}
      <section className="stage" data-testid="video-grid" style={stageStyle} onClick={() => setOverlay((v) => !v)}>
        <div className="grid" style={gridStyle}>
          {sharer && !screenInline && (
            <ScreenTile
              key={`screen:${sharer.id}`}
              strings={strings}
              sharer={sharer}
              attach={attach}
              paused={state.pausedVideos.includes(screenKey(sharer.id))}
            />
          )}
          {state.participants.map((p) => (
            <RemoteTile
              key={p.id}
              strings={strings}
              participant={p}
              attach={attach}
              presenting={screenInline && p === sharer}
              paused={state.pausedVideos.includes(p.id)}
            />
          ))}
          {others === 0 && <p className="waiting">{strings.waiting}</p>}
        </div>
        <LocalTile
          strings={strings}
          stream={state.localStream}
          label={strings.you}
          camOn={state.camOn}
          micOff={!state.micOn || !state.hasMic}
          speaking={state.speaking && state.micOn}
          quality={state.phase === 'reconnecting' ? 'reconnecting' : state.quality}
          pip={others > 0}
        />
      </section>
      {devicesOpen && <DeviceSettings strings={strings} state={state} session={session} onClose={() => setDevicesOpen(false)} />}
      <Controls
        strings={strings}
        micOn={state.micOn}
        camOn={state.camOn}
        hasMic={state.hasMic}
        hasCamera={state.hasCamera}
        sharing={canShareScreen() ? sharing : null}
        devicesOpen={devicesOpen}
        onToggleMic={() => session.toggleMic()}
        onToggleCamera={() => session.toggleCamera()}
        onToggleScreen={() => void session.toggleScreen()}
        onToggleDevices={() => setDevicesOpen((v) => !v)}
        onLeave={() => session.leave()}
      />
    </div>
  );
}
