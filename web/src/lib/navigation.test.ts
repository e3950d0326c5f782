import { describe, expect, it } from 'vitest';
import { safeNext } from './navigation';

describe('safeNext', () => {
  it('keeps paths inside Plein', () => {
    expect(safeNext('/people/42?tab=org')).toBe('/people/42?tab=org');
    expect(safeNext('/search?q=van%20dijk')).toBe('/search?q=van%20dijk');
  });

  it('sends every other target home', () => {
    for (const target of [undefined, '', 'https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)']) {
      expect(safeNext(target)).toBe('/');
    }
  });
});
