import { describe, expect, it } from 'vitest';
import { en } from './en';
import { nl } from './nl';
import { browserLanguage, errorText, formatDate, translator } from './index';

describe('i18n', () => {
  it('has the same keys in Dutch and English, none empty', () => {
    expect(Object.keys(nl).sort()).toEqual(Object.keys(en).sort());
    for (const value of [...Object.values(nl), ...Object.values(en)]) {
      expect(value.trim().length).toBeGreaterThan(0);
    }
  });

  it('keeps the same placeholders in both languages', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(nl[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it('picks the first supported browser language', () => {
    expect(browserLanguage(['de-DE', 'nl-BE', 'en'])).toBe('nl');
    expect(browserLanguage(['en-GB', 'nl'])).toBe('en');
    expect(browserLanguage(['fr'])).toBe('en');
    expect(browserLanguage([])).toBe('en');
  });

  it('fills placeholders and formats numbers per language', () => {
    expect(translator('nl')('search.results', { count: 30000 })).toBe('30.000 collega’s');
    expect(translator('en')('search.results', { count: 30000 })).toBe('30,000 colleagues');
    expect(translator('en')('search.noResults', { query: 'xyz' })).toBe('Nobody matches “xyz”.');
  });

  it('formats dates per language', () => {
    expect(formatDate('nl', '2024-03-01')).toBe('1 maart 2024');
    expect(formatDate('en', '2024-03-01')).toBe('March 1, 2024');
  });

  it('shows a calendar date as the same day in every time zone', () => {
    const original = process.env.TZ;
    try {
      for (const zone of ['America/Los_Angeles', 'Pacific/Pago_Pago', 'Europe/Amsterdam', 'Pacific/Kiritimati']) {
        process.env.TZ = zone;
        expect(new Intl.DateTimeFormat().resolvedOptions().timeZone).toBe(zone);
        expect(formatDate('nl', '2024-03-01')).toBe('1 maart 2024');
        expect(formatDate('en', '2024-01-01')).toBe('January 1, 2024');
      }
    } finally {
      process.env.TZ = original;
    }
  });

  it('shows a moment on the day it was where the reader is', () => {
    const lateEvening = '2024-03-01T23:30:00Z';
    expect(formatDate('en', lateEvening, 'Europe/Amsterdam')).toBe('March 2, 2024');
    expect(formatDate('en', lateEvening, 'America/Los_Angeles')).toBe('March 1, 2024');
    expect(formatDate('en', 'not a date')).toBe('not a date');
  });
  it('says a server error in the reader’s language by its code, the server’s words only as a fallback', () => {
    const limited = { code: 'rate_limited', message: 'too many attempts, try again in 12 seconds', retryAfter: 12 };
    expect(errorText(translator('nl'), limited)).toBe('Te veel pogingen. Probeer het over 12 seconden opnieuw.');
    expect(errorText(translator('en'), limited)).toBe('Too many attempts. Try again in 12 seconds.');
    const taken = { code: 'email_taken', message: 'a person with this email address already exists' };
    expect(errorText(translator('nl'), taken)).toBe('Iemand anders heeft dit e-mailadres al.');
    const unknown = { code: 'brand_new_code', message: 'something the client does not know yet' };
    expect(errorText(translator('nl'), unknown)).toBe('something the client does not know yet');
    // Every code the Dutch screens can show has a Dutch text of its own.
    const codes = (Object.keys(en) as (keyof typeof en)[]).filter((key) => key.startsWith('error.'));
    expect(codes.length).toBeGreaterThan(20);
    for (const key of codes) expect(nl[key]).not.toBe(en[key]);
  });
});
