import { describe, expect, it } from 'vitest';
import { parseTags, photoProblem } from './tags';

describe('parseTags', () => {
  it('trims, drops empties and case-insensitive repeats, keeps the first spelling', () => {
    expect(parseTags('Rust, SQL ,  ,rust;  Data   Science\nsql')).toEqual(['Rust', 'SQL', 'Data Science']);
    expect(parseTags('')).toEqual([]);
  });
});

describe('photoProblem', () => {
  it('takes JPEG, PNG and WebP up to 5 MB', () => {
    expect(photoProblem({ type: 'image/jpeg', size: 5 * 1024 * 1024 })).toBeNull();
    expect(photoProblem({ type: 'image/webp', size: 10 })).toBeNull();
    expect(photoProblem({ type: 'image/gif', size: 10 })).toBe('type');
    expect(photoProblem({ type: 'image/png', size: 5 * 1024 * 1024 + 1 })).toBe('size');
  });
});
