import { describe, expect, it } from 'vitest';
import { EN, pickLang, RU, stringsFor } from './i18n';

describe('i18n', () => {
  it('picks Russian for ru* languages only', () => {
    expect(pickLang('ru')).toBe('ru');
    expect(pickLang('ru-RU')).toBe('ru');
    expect(pickLang('RU-ua')).toBe('ru');
    expect(pickLang('en-US')).toBe('en');
    expect(pickLang('uk')).toBe('en');
    expect(pickLang(undefined)).toBe('en');
    expect(stringsFor('ru-RU')).toBe(RU);
  });

  it('has every string in both languages', () => {
    expect(Object.keys(RU).sort()).toEqual(Object.keys(EN).sort());
  });

  it('has every notice and quality text in both languages', () => {
    expect(Object.keys(RU.notice).sort()).toEqual(Object.keys(EN.notice).sort());
    expect(Object.values(RU.notice).every((t) => t.length > 0)).toBe(true);
    expect(RU.quality.poor).toBe('Плохая связь');
    expect(RU.serverError('Someone else is already sharing a screen.')).toBe('Кто-то уже показывает экран.');
  });

  it('declines Russian plurals', () => {
    expect(RU.participants(1)).toBe('1 участник');
    expect(RU.participants(3)).toBe('3 участника');
    expect(RU.participants(5)).toBe('5 участников');
    expect(RU.participants(11)).toBe('11 участников');
    expect(RU.participants(22)).toBe('22 участника');
    expect(EN.participants(1)).toBe('1 participant');
    expect(EN.participants(2)).toBe('2 participants');
  });

  it('names the missing features and supported browsers', () => {
    const text = EN.unsupported(['MediaRecorder', 'MediaSource'], 'ws');
    expect(text).toContain('MediaRecorder, MediaSource');
    expect(text).toContain('Chrome');
    expect(RU.unsupported(['RTCPeerConnection'], 'webrtc')).toContain('Safari');
  });

  it('translates known server errors', () => {
    expect(RU.serverError('Room is full.')).toBe('Комната заполнена.');
    expect(RU.serverError('Something new.')).toBe('Something new.');
    expect(EN.serverError('Room is full.')).toBe('Room is full.');
  });
});
