// User-facing copy: English, and Russian when navigator.language starts with "ru".

import type { DeviceKind } from '../call/localMedia';
import type { MediaNotice } from '../call/mediaControl';
import type { MediaTransportKind } from '../protocol/messages';
import type { LinkState } from '../transports/quality';

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
  // Devices and preview
  micLabel: string;
  cameraLabel: string;
  noCamera: string;
  device: (kind: DeviceKind, n: number) => string;
  previewStarting: string;
  micLevel: string;
  notice: Record<MediaNotice, string>;
  devices: string;
  close: string;
  // Tiles
  micOff: string;
  cameraIsOffTile: string;
  /** On a tile whose video the server holds back for our bandwidth (sfu). */
  videoPaused: string;
  speaking: string;
  quality: Record<LinkState, string>;
  yourQuality: Record<LinkState, string>;
  // Screen sharing
  shareScreen: string;
  stopSharing: string;
  youAreSharing: string;
  isSharing: (name: string) => string;
  // Inviting
  copyInvite: string;
  inviteCopied: string;
  copyThisLink: string;
  inviteWithAuth: string;
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
  'Invalid state message.': 'Некорректное сообщение о состоянии.',
  'Someone else is already sharing a screen.': 'Кто-то уже показывает экран.',
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
  micLabel: 'Microphone',
  cameraLabel: 'Camera',
  noCamera: 'No camera',
  device: (kind, n) => `${kind === 'mic' ? 'Microphone' : 'Camera'} ${n}`,
  previewStarting: 'Starting the camera…',
  micLevel: 'Microphone level',
  notice: {
    'camera-none-found': 'No camera found: you join with sound only.',
    'camera-denied': 'The camera is blocked: you join with sound only. Allow the camera in the browser to be seen.',
    'camera-failed': 'The camera did not start (is another app using it?): you join with sound only.',
    'camera-lost': 'Your camera was disconnected. Pick another one under Devices.',
    'mic-lost': 'Your microphone was disconnected: nobody can hear you. Plug one in or pick another under Devices.',
    'device-failed': 'That device did not start. Try another one.',
    'screen-failed': 'Screen sharing did not start.',
    'screen-taken': 'Someone else is sharing a screen: wait until they stop.',
  },
  devices: 'Devices',
  close: 'Close',
  micOff: 'Microphone off',
  cameraIsOffTile: 'Camera off',
  videoPaused: 'Video paused: your connection is too slow',
  speaking: 'Speaking',
  quality: { good: 'Good connection', fair: 'Unstable connection', poor: 'Poor connection', reconnecting: 'Reconnecting…' },
  yourQuality: {
    good: '',
    fair: 'Your connection is unstable.',
    poor: 'Your connection is poor.',
    reconnecting: 'Your media connection dropped; reconnecting…',
  },
  shareScreen: 'Share screen',
  stopSharing: 'Stop sharing',
  youAreSharing: 'You are sharing your screen.',
  isSharing: (name) => `${name} is sharing a screen`,
  copyInvite: 'Copy invite link',
  inviteCopied: 'Link copied. Send it to whoever you want to invite.',
  copyThisLink: 'Copy this link and send it:',
  inviteWithAuth:
    'Invitation links are personal and expire, so this page’s address will not let anyone in. Get a link for a guest from the Telegram bot, or on the server with “roomtone token”.',
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
  micLabel: 'Микрофон',
  cameraLabel: 'Камера',
  noCamera: 'Без камеры',
  device: (kind, n) => `${kind === 'mic' ? 'Микрофон' : 'Камера'} ${n}`,
  previewStarting: 'Включаем камеру…',
  micLevel: 'Громкость микрофона',
  notice: {
    'camera-none-found': 'Камера не найдена: вы подключитесь только со звуком.',
    'camera-denied': 'Камера заблокирована: вы подключитесь только со звуком. Разрешите камеру в браузере, чтобы вас видели.',
    'camera-failed': 'Камера не включилась (может, её занимает другая программа?): вы подключитесь только со звуком.',
    'camera-lost': 'Камера отключилась. Выберите другую в разделе «Устройства».',
    'mic-lost': 'Микрофон отключился: вас никто не слышит. Подключите его или выберите другой в разделе «Устройства».',
    'device-failed': 'Это устройство не включилось. Попробуйте другое.',
    'screen-failed': 'Не удалось показать экран.',
    'screen-taken': 'Кто-то уже показывает экран: дождитесь, пока он закончит.',
  },
  devices: 'Устройства',
  close: 'Закрыть',
  micOff: 'Микрофон выключен',
  cameraIsOffTile: 'Камера выключена',
  videoPaused: 'Видео приостановлено: не хватает скорости связи',
  speaking: 'Говорит',
  quality: { good: 'Хорошая связь', fair: 'Связь нестабильна', poor: 'Плохая связь', reconnecting: 'Переподключение…' },
  yourQuality: {
    good: '',
    fair: 'Ваша связь нестабильна.',
    poor: 'У вас плохая связь.',
    reconnecting: 'Связь с медиа прервалась, восстанавливаем…',
  },
  shareScreen: 'Показать экран',
  stopSharing: 'Остановить показ',
  youAreSharing: 'Вы показываете свой экран.',
  isSharing: (name) => `${name} показывает экран`,
  copyInvite: 'Скопировать ссылку',
  inviteCopied: 'Ссылка скопирована. Отправьте её тем, кого хотите позвать.',
  copyThisLink: 'Скопируйте эту ссылку и отправьте её:',
  inviteWithAuth:
    'Ссылки-приглашения личные и со сроком действия, поэтому адрес этой страницы никого не впустит. Ссылку для гостя выдаёт Telegram-бот, а на сервере — команда «roomtone token».',
};

export function pickLang(language: string | undefined | null): Lang {
  return (language ?? '').toLowerCase().startsWith('ru') ? 'ru' : 'en';
}

export function stringsFor(language: string | undefined | null): Strings {
  return pickLang(language) === 'ru' ? RU : EN;
}
