import type { DeviceLists } from '../call/devices';
import type { DeviceKind } from '../call/localMedia';
import type { Strings } from '../lib/i18n';

interface Props {
  strings: Strings;
  lists: DeviceLists;
  micDevice: string | null;
  cameraDevice: string | null;
  onSelect(kind: DeviceKind, deviceId: string): void;
}

/** Microphone and camera choosers; the camera's offers "No camera" while there is none. */
export function DevicePickers({ strings, lists, micDevice, cameraDevice, onSelect }: Props) {
  return (
    <div className="pickers">
      <label>
        <span>{strings.micLabel}</span>
        <select
          data-testid="mic-select"
          value={micDevice ?? ''}
          onChange={(e) => onSelect('mic', e.target.value)}
          disabled={lists.mics.length === 0}
        >
          {!lists.mics.some((d) => d.deviceId === micDevice) && <option value="">—</option>}
          {lists.mics.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>{strings.cameraLabel}</span>
        <select
          data-testid="camera-select"
          value={cameraDevice ?? ''}
          onChange={(e) => e.target.value && onSelect('camera', e.target.value)}
          disabled={lists.cameras.length === 0}
        >
          {!lists.cameras.some((d) => d.deviceId === cameraDevice) && <option value="">{strings.noCamera}</option>}
          {lists.cameras.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
