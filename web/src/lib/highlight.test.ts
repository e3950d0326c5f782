import { describe, expect, it } from 'vitest';
import { highlight, queryWords } from './highlight';

const marked = (text: string, query: string) =>
  highlight(text, query)
    .filter((segment) => segment.match)
    .map((segment) => segment.text);

describe('highlight', () => {
  it('marks the start of a word that the query word begins', () => {
    expect(marked('Sanne van Rijnsoever', 'rijns')).toEqual(['Rijns']);
    expect(highlight('Sanne van Rijnsoever', 'rijns')).toEqual([
      { text: 'Sanne van ', match: false },
      { text: 'Rijns', match: true },
      { text: 'oever', match: false },
    ]);
  });

  it('folds case and accents both ways', () => {
    expect(marked('Zoë Öztürk', 'zoe ozt')).toEqual(['Zoë', 'Özt']);
    expect(marked('Zoe Janssen', 'zoë')).toEqual(['Zoe']);
  });

  it('treats IJ as y', () => {
    expect(marked('Pieter Dijkstra', 'dykstra')).toEqual(['Dijkstra']);
    expect(marked('Pieter Dykstra', 'dijk')).toEqual(['Dyk']);
  });

  it('marks only word starts, never the middle of a word', () => {
    expect(marked('Bram Soeverein', 'oever')).toEqual([]);
  });

  it('leaves text alone for an empty query or no match', () => {
    expect(highlight('Anna de Vries', '')).toEqual([{ text: 'Anna de Vries', match: false }]);
    expect(marked('Anna de Vries', 'xyz')).toEqual([]);
  });

  it('splits the query into folded words', () => {
    expect(queryWords('  Van  RIJN-soever ')).toEqual(['van', 'ryn', 'soever']);
  });
});
