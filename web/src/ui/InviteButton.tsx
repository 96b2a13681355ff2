import { useEffect, useState } from 'react';
import type { Strings } from '../lib/i18n';

interface Props {
  strings: Strings;
  /** With auth on, this page's address lets nobody in: say where links come from. */
  authEnabled: boolean | null;
}

/** The page's own address, without its query (a token is never in it: see lib/url.ts). */
export function inviteLink(location: Pick<Location, 'origin' | 'pathname'>): string {
  return `${location.origin}${location.pathname}`;
}

export function InviteButton({ strings, authEnabled }: Props) {
  const [shown, setShown] = useState<'copied' | 'manual' | 'auth' | null>(null);
  const link = inviteLink(window.location);
  useEffect(() => {
    if (shown !== 'copied') return;
    const timer = setTimeout(() => setShown(null), 4000);
    return () => clearTimeout(timer);
  }, [shown]);

  const click = async () => {
    if (shown) {
      setShown(null);
      return;
    }
    if (authEnabled) {
      setShown('auth');
      return;
    }
    try {
      await navigator.clipboard.writeText(link);
      setShown('copied');
    } catch {
      setShown('manual'); // no clipboard (plain HTTP, refused): show the link to copy by hand
    }
  };

  return (
    <span className="invite">
      <button type="button" className="link" data-testid="invite-button" aria-expanded={shown !== null} onClick={() => void click()}>
        {strings.copyInvite}
      </button>
      {shown && (
        <span className="invite-pop" role="status" data-testid="invite-text" data-shown={shown}>
          {shown === 'copied' && strings.inviteCopied}
          {shown === 'auth' && strings.inviteWithAuth}
          {shown === 'manual' && (
            <>
              {strings.copyThisLink} <input readOnly value={link} onFocus={(e) => e.target.select()} />
            </>
          )}
        </span>
      )}
    </span>
  );
}
