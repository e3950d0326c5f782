import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { en, type MessageKey, type Messages } from './en';
import { nl } from './nl';

export type Language = 'nl' | 'en';
export const LANGUAGES: readonly Language[] = ['nl', 'en'];
const CATALOGUES: Record<Language, Messages> = { en, nl };
const STORAGE_KEY = 'plein.language';

/** The first supported language among the browser's preferences; English otherwise. */
export function browserLanguage(preferences: readonly string[]): Language {
  for (const preference of preferences) {
    const base = preference.toLowerCase().split('-')[0];
    if (base === 'nl' || base === 'en') return base;
  }
  return 'en';
}

export function isLanguage(value: unknown): value is Language {
  return value === 'nl' || value === 'en';
}

/** A remembered choice wins over the browser's preference. */
export function initialLanguage(): Language {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (isLanguage(stored)) return stored;
  } catch {
    // Storage can be unavailable (private windows); the browser's preference still applies.
  }
  return browserLanguage(navigator.languages ?? [navigator.language]);
}

export function rememberLanguage(language: Language): void {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Not remembered on this device; the server copy still is.
  }
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/**
 * An error from the server in the reader's language, chosen by its stable code; the server's
 * own (English) message only for a code this client does not know.
 */
export function errorText(t: Translate, error: { code: string; message: string; retryAfter?: number }): string {
  const key = `error.${error.code}`;
  if (!isMessageKey(key)) return error.message;
  return t(key, { seconds: error.retryAfter ?? 60 });
}

export function translator(language: Language): Translate {
  const catalogue = CATALOGUES[language];
  const numbers = new Intl.NumberFormat(language);
  return (key, values) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = values?.[name];
      if (value === undefined) return whole;
      return typeof value === 'number' ? numbers.format(value) : value;
    });
}

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A calendar date (`2024-03-01`, a start date) is the same day everywhere; a moment
 * (`2024-03-01T08:00:00Z`) is shown on the day it was where the reader is, or in `timeZone`.
 */
export function formatDate(language: Language, isoDate: string, timeZone?: string): string {
  const calendar = CALENDAR_DATE.exec(isoDate);
  if (calendar) {
    const [, year, month, day] = calendar;
    const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
    if (Number.isNaN(date.getTime())) return isoDate;
    return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
  }
  const moment = new Date(isoDate);
  if (Number.isNaN(moment.getTime())) return isoDate;
  return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone }).format(moment);
}

export interface I18n {
  language: Language;
  t: Translate;
  setLanguage: (language: Language) => void;
}

export const I18nContext = createContext<I18n>({
  language: 'en',
  t: translator('en'),
  setLanguage: () => undefined,
});

export function useI18n(): I18n {
  return useContext(I18nContext);
}
