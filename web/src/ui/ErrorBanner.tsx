import type { CallError } from '../call/state';
import type { Strings } from '../lib/i18n';

export function errorText(strings: Strings, error: CallError): string {
  switch (error.kind) {
    case 'server':
      return strings.serverError(error.message);
    case 'media-denied':
      return strings.mediaDenied;
    case 'media-failed':
      return strings.mediaFailed;
    case 'unsupported':
      return strings.unsupported(error.missing, error.mode);
    case 'disconnected':
      return strings.disconnected;
  }
}

export function ErrorBanner({ strings, error, onDismiss }: { strings: Strings; error: CallError | null; onDismiss(): void }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      <span>{errorText(strings, error)}</span>
      <button type="button" className="link" onClick={onDismiss} aria-label={strings.dismiss}>
        ×
      </button>
    </div>
  );
}
