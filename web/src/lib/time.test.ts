import { describe, expect, it } from 'vitest';
import { fileSize, relativeTime } from './time';

describe('relativeTime', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  it('speaks of recent moments relatively and of older ones by date', () => {
    expect(relativeTime('en', '2026-11-30T11:57:00Z', now)).toBe('3 minutes ago');
    expect(relativeTime('nl', '2026-11-29T12:00:00Z', now)).toBe('gisteren');
    expect(relativeTime('en', '2026-10-01T12:00:00Z', now)).toBe('Oct 1, 2026');
    expect(relativeTime('en', 'not a date', now)).toBe('not a date');
  });
});

describe('fileSize', () => {
  it('picks a readable unit', () => {
    expect(fileSize('en', 512)).toBe('512 byte');
    expect(fileSize('en', 3_400_000)).toBe('3.4 MB');
    expect(fileSize('nl', 12_000)).toBe('12 kB');
  });
});
