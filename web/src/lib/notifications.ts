// Opt-in browser notifications: offered once; when granted, a peer joining
// while the page is hidden shows a notification.

import { local, NOTIFY_ASKED_KEY } from './storage';

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

/** Offer the opt-in only once, and only while the browser would still ask. */
export function shouldOfferNotifications(): boolean {
  return (
    notificationsSupported() &&
    Notification.permission === 'default' &&
    local.get(NOTIFY_ASKED_KEY) === null
  );
}

export async function askForNotifications(): Promise<NotificationPermission | 'unsupported'> {
  local.set(NOTIFY_ASKED_KEY, '1');
  if (!notificationsSupported()) return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

export function declineNotifications(): void {
  local.set(NOTIFY_ASKED_KEY, '1');
}

export function notifyIfHidden(title: string, body: string): void {
  if (!notificationsSupported() || Notification.permission !== 'granted') return;
  if (document.visibilityState !== 'hidden') return;
  try {
    const n = new Notification(title, { body, tag: 'roomtone-peer-joined' });
    n.onclick = () => {
      window.focus();
      n.close();
    };
  } catch {
    // some mobile browsers only allow notifications from a service worker
  }
}
