import type { Strings } from '../lib/i18n';

interface Props {
  strings: Strings;
  micOn: boolean;
  camOn: boolean;
  hasCamera: boolean;
  onToggleMic(): void;
  onToggleCamera(): void;
  onLeave(): void;
}

export function Controls({ strings, micOn, camOn, hasCamera, onToggleMic, onToggleCamera, onLeave }: Props) {
  return (
    <nav className="controls" data-testid="controls">
      <button type="button" data-testid="mute-button" aria-pressed={!micOn} className={micOn ? '' : 'off'} onClick={onToggleMic}>
        {micOn ? strings.mute : strings.unmute}
      </button>
      <button
        type="button"
        data-testid="camera-button"
        aria-pressed={!camOn}
        className={camOn ? '' : 'off'}
        onClick={onToggleCamera}
        disabled={!hasCamera}
      >
        {camOn ? strings.cameraOff : strings.cameraOn}
      </button>
      <button type="button" data-testid="leave-button" className="leave" onClick={onLeave}>
        {strings.leave}
      </button>
    </nav>
  );
}
