import type { Strings } from '../lib/i18n';

interface Props {
  strings: Strings;
  micOn: boolean;
  camOn: boolean;
  hasMic: boolean;
  hasCamera: boolean;
  /** null: this browser cannot share a screen (phones): no button. */
  sharing: boolean | null;
  devicesOpen: boolean;
  onToggleMic(): void;
  onToggleCamera(): void;
  onToggleScreen(): void;
  onToggleDevices(): void;
  onLeave(): void;
}

export function Controls(props: Props) {
  const { strings, micOn, camOn, hasMic, hasCamera, sharing, devicesOpen } = props;
  return (
    <nav className="controls" data-testid="controls">
      <button
        type="button"
        data-testid="mute-button"
        aria-pressed={!micOn}
        className={micOn && hasMic ? '' : 'off'}
        onClick={props.onToggleMic}
        disabled={!hasMic}
      >
        {micOn ? strings.mute : strings.unmute}
      </button>
      <button
        type="button"
        data-testid="camera-button"
        aria-pressed={!camOn}
        className={camOn && hasCamera ? '' : 'off'}
        onClick={props.onToggleCamera}
        disabled={!hasCamera}
      >
        {camOn ? strings.cameraOff : strings.cameraOn}
      </button>
      {sharing !== null && (
        <button
          type="button"
          data-testid="screen-button"
          aria-pressed={sharing}
          className={sharing ? 'active' : ''}
          onClick={props.onToggleScreen}
        >
          {sharing ? strings.stopSharing : strings.shareScreen}
        </button>
      )}
      <button
        type="button"
        data-testid="devices-button"
        aria-expanded={devicesOpen}
        className={devicesOpen ? 'active' : ''}
        onClick={props.onToggleDevices}
      >
        {strings.devices}
      </button>
      <button type="button" data-testid="leave-button" className="leave" onClick={props.onLeave}>
        {strings.leave}
      </button>
    </nav>
  );
}
