import { useState, type FormEvent } from 'react';
import type { OpenedMedia } from '../call/localMedia';
import { MediaControl } from '../call/mediaControl';
import type { CallError } from '../call/state';
import { useDevices } from '../hooks/useDevices';
import { usePreview } from '../hooks/usePreview';
import type { Strings } from '../lib/i18n';
import { MAX_NAME_LENGTH, type MediaTransportKind } from '../protocol/messages';
import { DevicePickers } from './DevicePickers';
import { ErrorBanner } from './ErrorBanner';
import { LevelMeter } from './LevelMeter';
import { StreamVideo } from './StreamVideo';

interface Props {
  strings: Strings;
  initialName: string;
  checking: boolean;
  missing: string[];
  mode: MediaTransportKind | null;
  error: CallError | null;
  /** `media` is the preview's microphone and camera, handed over (null: the call opens its own). */
  onJoin(name: string, media: OpenedMedia | null): void;
  onDismissError(): void;
}

export function JoinScreen({ strings, initialName, checking, missing, mode, error, onJoin, onDismissError }: Props) {
  const [name, setName] = useState(initialName);
  const unsupported = missing.length > 0;
  const preview = usePreview(!checking && !unsupported);
  const lists = useDevices(strings, preview.stream);
  const disabled = checking || unsupported || name.trim() === '';
  const hasVideo = (preview.stream?.getVideoTracks().length ?? 0) > 0;
  const mic = preview.stream?.getAudioTracks()[0] ?? null;
  const notice = preview.cameraProblem ? MediaControl.joinNotice({ stream: preview.stream!, cameraProblem: preview.cameraProblem }) : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!disabled) onJoin(name, preview.take());
  };

  return (
    <main className="join">
      <form className="join-card" onSubmit={submit}>
        <div className={`preview${hasVideo ? '' : ' no-video'}`} data-testid="preview">
          <StreamVideo stream={preview.stream} className="mirror" testId="preview-video" />
          {!hasVideo && <p className="preview-text">{preview.opening ? strings.previewStarting : strings.noCamera}</p>}
          <LevelMeter track={mic} label={strings.micLevel} />
        </div>
        <div className="join-form">
          <h1>{strings.title}</h1>
          <p className="tagline">{strings.tagline}</p>
          <label htmlFor="join-name">{strings.nameLabel}</label>
          <input
            id="join-name"
            data-testid="join-name"
            type="text"
            autoComplete="nickname"
            maxLength={MAX_NAME_LENGTH}
            placeholder={strings.namePlaceholder}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoFocus
          />
          {preview.stream && (
            <DevicePickers
              strings={strings}
              lists={lists}
              micDevice={preview.micDevice}
              cameraDevice={preview.cameraDevice}
              onSelect={preview.select}
            />
          )}
          {notice && (
            <p className="notice" role="status" data-testid="media-notice" data-notice={notice}>
              {strings.notice[notice]}
            </p>
          )}
          {preview.switchFailed && <p className="notice">{strings.notice['device-failed']}</p>}
          {preview.failure && !error && (
            <p className="notice" role="status">
              {preview.failure === 'denied' ? strings.mediaDenied : strings.mediaFailed}
            </p>
          )}
          <button type="submit" data-testid="join-button" disabled={disabled}>
            {strings.join}
          </button>
          {checking && <p className="hint">{strings.checking}</p>}
          {unsupported && (
            <p className="compat" role="alert" data-testid="compat-message">
              {strings.unsupported(missing, mode)}
            </p>
          )}
          <ErrorBanner strings={strings} error={error} onDismiss={onDismissError} />
        </div>
      </form>
    </main>
  );
}
