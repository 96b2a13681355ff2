import type { CallSession, CallState } from '../call/session';
import { useDevices } from '../hooks/useDevices';
import type { Strings } from '../lib/i18n';
import { DevicePickers } from './DevicePickers';
import { LevelMeter } from './LevelMeter';

interface Props {
  strings: Strings;
  state: CallState;
  session: CallSession;
  onClose(): void;
}

/** Switch microphone or camera during the call, with the microphone's level to check it. */
export function DeviceSettings({ strings, state, session, onClose }: Props) {
  const lists = useDevices(strings, state.localStream);
  const mic = state.localStream?.getAudioTracks()[0] ?? null;
  return (
    <section className="device-settings" data-testid="device-settings" aria-label={strings.devices}>
      <DevicePickers
        strings={strings}
        lists={lists}
        micDevice={state.micDevice}
        cameraDevice={state.cameraDevice}
        onSelect={(kind, id) => void session.switchDevice(kind, id)}
      />
      <LevelMeter track={mic} label={strings.micLevel} />
      <button type="button" className="link" onClick={onClose}>
        {strings.close}
      </button>
    </section>
  );
}
