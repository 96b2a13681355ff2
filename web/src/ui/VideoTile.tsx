import { useCallback } from 'react';
import type { Participant } from '../call/state';
import type { Strings } from '../lib/i18n';
import { screenKey } from '../transports/peerVideos';
import { worse, type LinkState } from '../transports/quality';
import { MicOffIcon, SignalIcon } from './icons';
import { StreamVideo } from './StreamVideo';

type Attach = (key: string, video: HTMLVideoElement | null) => void;

/** What a participant's tile shows of its connection: the worse of its own report and ours. */
export function tileQuality(participant: Participant): LinkState | null {
  return worse(participant.state?.quality, participant.received);
}

function initial(name: string): string {
  return Array.from(name.trim())[0]?.toUpperCase() ?? '?';
}

/** The name, a muted microphone, the connection, and a short "poor connection" or "reconnecting". */
function Caption(props: { strings: Strings; name: string; micOff: boolean; quality: LinkState | null }) {
  const { strings, name, micOff, quality } = props;
  return (
    <figcaption>
      {micOff && (
        <span className="badge mic-off" data-testid="mic-off" title={strings.micOff} aria-label={strings.micOff}>
          <MicOffIcon />
        </span>
      )}
      <span className="name">{name}</span>
      {quality && (
        <span className="badge" data-testid="quality" data-quality={quality} title={strings.quality[quality]}>
          <SignalIcon quality={quality} />
          {(quality === 'poor' || quality === 'reconnecting') && (
            <span className="quality-text">{strings.quality[quality]}</span>
          )}
        </span>
      )}
    </figcaption>
  );
}

interface RemoteProps {
  strings: Strings;
  participant: Participant;
  /** Hands the element to the session's PeerVideos (null on unmount). */
  attach: Attach;
  /** ws mode: this participant's one video is its shared screen; the tile is shown
   * large, without being remounted (its MediaSource stays on the same element). */
  presenting?: boolean;
  /** The server holds this participant's video back for our bandwidth (sfu). */
  paused?: boolean;
}

/** Over a video the server paused for our bandwidth, instead of its frozen last frame. */
function PausedNotice({ strings }: { strings: Strings }) {
  return (
    <div className="paused" data-testid="video-paused" role="status">
      {strings.videoPaused}
    </div>
  );
}

/** A remote participant: the transport puts its media into this element. */
export function RemoteTile({ strings, participant, attach, presenting = false, paused = false }: RemoteProps) {
  const { id, state } = participant;
  const ref = useCallback((video: HTMLVideoElement | null) => attach(id, video), [attach, id]);
  const camOff = !presenting && state !== null && !state.camera;
  const speaking = state?.speaking === true && state.mic;
  return (
    <figure
      className={`tile remote${speaking ? ' speaking' : ''}${camOff ? ' cam-off' : ''}${presenting ? ' screen' : ''}${paused ? ' paused' : ''}`}
      data-testid="remote-tile"
      data-screen={presenting}
      data-peer-id={id}
      data-video-paused={paused}
      data-speaking={speaking}
      data-mic={state ? (state.mic ? 'on' : 'off') : 'unknown'}
      data-camera={state ? (state.camera ? 'on' : 'off') : 'unknown'}
    >
      <video data-testid="remote-video" data-peer-id={id} ref={ref} autoPlay playsInline />
      {camOff && (
        <div className="avatar" aria-label={strings.cameraIsOffTile} title={strings.cameraIsOffTile}>
          {initial(participant.name)}
        </div>
      )}
      {paused && !camOff && <PausedNotice strings={strings} />}
      <Caption
        strings={strings}
        name={presenting ? strings.isSharing(participant.name) : participant.name}
        micOff={state !== null && !state.mic}
        quality={tileQuality(participant)}
      />
    </figure>
  );
}

interface ScreenProps {
  strings: Strings;
  sharer: Participant;
  attach: Attach;
  paused?: boolean;
}

/** A participant's shared screen as a track of its own (webrtc, sfu), shown large; never cropped. */
export function ScreenTile({ strings, sharer, attach, paused = false }: ScreenProps) {
  const key = screenKey(sharer.id);
  const ref = useCallback((video: HTMLVideoElement | null) => attach(key, video), [attach, key]);
  return (
    <figure className={`tile screen${paused ? ' paused' : ''}`} data-testid="screen-tile" data-screen="true" data-peer-id={sharer.id}>
      <video data-testid="screen-video" data-peer-id={sharer.id} ref={ref} autoPlay playsInline />
      {paused && <PausedNotice strings={strings} />}
      <figcaption>
        <span className="name">{strings.isSharing(sharer.name)}</span>
      </figcaption>
    </figure>
  );
}

interface LocalProps {
  strings: Strings;
  stream: MediaStream | null;
  label: string;
  camOn: boolean;
  micOff: boolean;
  speaking: boolean;
  quality: LinkState | null;
  pip: boolean;
}

export function LocalTile({ strings, stream, label, camOn, micOff, speaking, quality, pip }: LocalProps) {
  const hasVideo = (stream?.getVideoTracks().length ?? 0) > 0;
  const shown = camOn && hasVideo;
  return (
    <figure
      className={`tile local${pip ? ' pip' : ''}${shown ? '' : ' cam-off'}${speaking ? ' speaking' : ''}`}
      data-testid="local-tile"
      data-speaking={speaking}
    >
      <StreamVideo stream={stream} testId="local-video" />
      {!shown && <div className="avatar">{initial(label)}</div>}
      <Caption strings={strings} name={label} micOff={micOff} quality={quality} />
    </figure>
  );
}
