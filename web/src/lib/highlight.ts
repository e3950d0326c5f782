// Marks the parts of a text that a search query matched, the way the server matches: words are
// compared case- and accent-folded, IJ/ij counts as y, and a word matches the start of a word in
// the text (the last query word is what the person is still typing). Typo matches are not marked:
// guessing which letters a typo stands for would mark the wrong ones.

export interface Segment {
  text: string;
  match: boolean;
}

/** Folds one character the way the search index does: lower case, accents off, ß → ss. */
export function foldChar(char: string): string {
  const lower = char.toLowerCase();
  if (lower === 'ß') return 'ss';
  return lower.normalize('NFD').replace(/\p{M}+/gu, '');
}

/** Folds text, keeping a map from each folded character back to its source index. */
export function foldWithMap(text: string): { folded: string; sourceIndex: number[] } {
  let folded = '';
  const sourceIndex: number[] = [];
  let offset = 0;
  for (const char of text) {
    const piece = foldChar(char);
    for (const unit of piece) {
      folded += unit;
      sourceIndex.push(offset);
    }
    offset += char.length;
  }
  // IJ → y, kept the same length so the map stays valid: "ij" becomes "y\u0000".
  return { folded: folded.replace(/ij/g, 'y\u0000'), sourceIndex };
}

export function queryWords(query: string): string[] {
  return foldWithMap(query)
    .folded.replace(/\u0000/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);
}

/** Splits `text` into matched and unmatched segments for the given query. */
export function highlight(text: string, query: string): Segment[] {
  const words = queryWords(query);
  if (words.length === 0 || text.length === 0) return [{ text, match: false }];
  const { folded, sourceIndex } = foldWithMap(text);
  const marked = new Array<boolean>(text.length).fill(false);
  const compact = (value: string) => value.replace(/\u0000/g, '');
  // Word starts in the folded text.
  const starts: number[] = [];
  for (let index = 0; index < folded.length; index++) {
    const char = folded[index] ?? '';
    const previous = index === 0 ? '' : (folded[index - 1] ?? '');
    if (/[\p{L}\p{N}]/u.test(char) && (index === 0 || !/[\p{L}\p{N}\u0000]/u.test(previous))) {
      starts.push(index);
    }
  }
  for (const word of words) {
    for (const start of starts) {
      // Walk the folded text from the word start, skipping IJ padding, comparing with the word.
      let matched = 0;
      let end = start;
      while (end < folded.length && matched < word.length) {
        const char = folded[end];
        if (char === '\u0000') {
          end++;
          continue;
        }
        if (char !== word[matched]) break;
        matched++;
        end++;
      }
      if (matched === word.length && compact(folded.slice(start, end)) === word) {
        const from = sourceIndex[start] ?? 0;
        const to = end < sourceIndex.length ? (sourceIndex[end] ?? text.length) : text.length;
        for (let index = from; index < to; index++) marked[index] = true;
      }
    }
  }
  const segments: Segment[] = [];
  for (let index = 0; index < text.length; index++) {
    const match = marked[index] ?? false;
    const last = segments[segments.length - 1];
    if (last && last.match === match) last.text += text[index];
    else segments.push({ text: text[index] ?? '', match });
  }
  return segments;
}
