import { useState, type FormEvent } from 'react';
import type { CallError } from '../call/state';
import type { Strings } from '../lib/i18n';
import { MAX_NAME_LENGTH, type MediaTransportKind } from '../protocol/messages';
import { ErrorBanner } from './ErrorBanner';

interface Props {
  strings: Strings;
  initialName: string;
  checking: boolean;
  missing: string[];
  mode: MediaTransportKind | null;
  error: CallError | null;
  onJoin(name: string): void;
  onDismissError(): void;
}

export function JoinScreen({ strings, initialName, checking, missing, mode, error, onJoin, onDismissError }: Props) {
  const [name, setName] = useState(initialName);
  const unsupported = missing.length > 0;
  const disabled = checking || unsupported || name.trim() === '';

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!disabled) onJoin(name);
  };

  return (
    <main className="join">
      <form className="join-card" onSubmit={submit}>
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
      </form>
    </main>
  );
}
