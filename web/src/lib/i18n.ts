// User-facing copy: English, and Russian when navigator.language starts with "ru".

import type { MediaTransportKind } from '../protocol/messages';

export type Lang = 'en' | 'ru';

export interface Strings {
  lang: Lang;
  title: string;
  tagline: string;
  nameLabel: string;
  namePlaceholder: string;
  join: string;
  checking: string;
  unsupported: (missing: string[], mode: MediaTransportKind | null) => string;
  mediaDenied: string;
  mediaFailed: string;
  connecting: string;
  connected: (count: number) => string;
  waiting: string;
  reconnecting: (seconds: number) => string;
  reconnected: string;
  disconnected: string;
  micMuted: string;
  cameraIsOff: string;
  mute: string;
  unmute: string;
  cameraOff: string;
  cameraOn: string;
  leave: string;
  you: string;
  participants: (count: number) => string;
  enableNotifications: string;
  notifyJoinedTitle: string;
  notifyJoinedBody: (name: string) => string;
  enableSound: string;
  dismiss: string;
  serverError: (message: string) => string;
}

function pluralRu(n: number, one: string, few: string, many: string): string {
  const mod10 = n % 10;
  const mod100 = n % 100;
  if (mod10 === 1 && mod100 !== 11) return one;
  if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) return few;
  return many;
}

function browsers(mode: MediaTransportKind | null, lang: Lang): string {
  if (mode === 'ws' || mode === null) {
    return lang === 'ru'
      ? 'Используйте актуальный Chrome, Edge, Firefox или Opera (на компьютере или Android).'
      : 'Use a current Chrome, Edge, Firefox or Opera (desktop or Android).';
  }
  return lang === 'ru'
    ? 'Используйте актуальный Chrome, Edge, Firefox, Safari или Opera.'
    : 'Use a current Chrome, Edge, Firefox, Safari or Opera.';
}

const SERVER_ERRORS_RU: Record<string, string> = {
  'Room is full.': 'Комната заполнена.',
  'Name is required.': 'Введите имя.',
  'Peer is no longer available.': 'Участник уже вышел.',
  'Join first.': 'Сначала войдите в комнату.',
  'Invalid JSON.': 'Некорректное сообщение.',
  'Invalid media MIME type.': 'Неподдерживаемый формат медиа.',
};

export const EN: Strings = {
  lang: 'en',
  title: 'Roomtone',
  tagline: 'One room. Say hello.',
  nameLabel: 'Your name',
  namePlaceholder: 'Name',
  join: 'Join',
  checking: 'Checking the server…',
  unsupported: (missing, mode) =>
    `This browser cannot join this call: it lacks ${missing.join(', ')}. ${browsers(mode, 'en')}`,
  mediaDenied: 'Camera and microphone access was denied. Allow it in the browser and try again.',
  mediaFailed: 'Could not start the camera or microphone.',
  connecting: 'Connecting…',
  connected: (count) => (count <= 1 ? 'Connected. Waiting for others…' : `Connected, ${count} in the room.`),
  waiting: 'Waiting for others to join…',
  reconnecting: (seconds) => `Connection lost. Reconnecting in ${seconds} s…`,
  reconnected: 'Reconnected.',
  disconnected: 'Disconnected.',
  micMuted: 'Your microphone is muted.',
  cameraIsOff: 'Your camera is off.',
  mute: 'Mute',
  unmute: 'Unmute',
  cameraOff: 'Camera off',
  cameraOn: 'Camera on',
  leave: 'Leave',
  you: 'You',
  participants: (count) => `${count} ${count === 1 ? 'participant' : 'participants'}`,
  enableNotifications: 'Notify me when someone joins',
  notifyJoinedTitle: 'Roomtone',
  notifyJoinedBody: (name) => `${name} joined the call.`,
  enableSound: 'Tap to turn on sound',
  dismiss: 'Dismiss',
  serverError: (message) => message,
};

export const RU: Strings = {
  lang: 'ru',
  title: 'Roomtone',
  tagline: 'Одна комната. Поздоровайтесь.',
  nameLabel: 'Ваше имя',
  namePlaceholder: 'Имя',
  join: 'Войти',
  checking: 'Проверяем сервер…',
  unsupported: (missing, mode) =>
    `Этот браузер не может подключиться к звонку: нет ${missing.join(', ')}. ${browsers(mode, 'ru')}`,
  mediaDenied: 'Доступ к камере и микрофону запрещён. Разрешите его в браузере и попробуйте снова.',
  mediaFailed: 'Не удалось включить камеру или микрофон.',
  connecting: 'Подключение…',
  connected: (count) =>
    count <= 1
      ? 'Подключено. Ждём остальных…'
      : `Подключено, в комнате ${count} ${pluralRu(count, 'участник', 'участника', 'участников')}.`,
  waiting: 'Ждём, пока кто-нибудь подключится…',
  reconnecting: (seconds) => `Связь потеряна. Переподключение через ${seconds} с…`,
  reconnected: 'Связь восстановлена.',
  disconnected: 'Отключено.',
  micMuted: 'Ваш микрофон выключен.',
  cameraIsOff: 'Ваша камера выключена.',
  mute: 'Выкл. микрофон',
  unmute: 'Вкл. микрофон',
  cameraOff: 'Выкл. камеру',
  cameraOn: 'Вкл. камеру',
  leave: 'Выйти',
  you: 'Вы',
  participants: (count) => `${count} ${pluralRu(count, 'участник', 'участника', 'участников')}`,
  enableNotifications: 'Сообщать, когда кто-то подключится',
  notifyJoinedTitle: 'Roomtone',
  notifyJoinedBody: (name) => `${name} подключается к звонку.`,
  enableSound: 'Нажмите, чтобы включить звук',
  dismiss: 'Закрыть',
  serverError: (message) => SERVER_ERRORS_RU[message] ?? message,
};

export function pickLang(language: string | undefined | null): Lang {
  return (language ?? '').toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function stringsFor(language: string | undefined | null): Strings {
  return pickLang(language) === 'ru' ? RU : EN;
}
