import { describe, expect, it } from 'vitest';
import { cleanLine, cleanNames, cleanText, truncate } from '../../src/sync/sanitize';
import { rng as seeded } from '../support/random';

describe('cleanLine', () => {
  it.each([
    ['  Sunset\tSession \n', 'Sunset Session'],
    ['Zero\u200Bwidth\uFEFF and\u200E bidi', 'Zerowidth and bidi'],
    ['Bell\u0007 and NUL\u0000 go', 'Bell and NUL go'],
    ['e\u0301 composes', '\u00e9 composes'],
    ['“Curly” – quotes stay', '“Curly” – quotes stay'],
    ['Family 👨\u200D👩\u200D👧 emoji', 'Family 👨\u200D👩\u200D👧 emoji'],
    [null, ''],
    [undefined, ''],
    ['', ''],
  ])('cleans %j to %j', (input, expected) => {
    expect(cleanLine(input, 255)).toBe(expected);
  });

  it('replaces a lone surrogate so the value can still be percent-encoded into the edit URL', () => {
    const cleaned = cleanLine('broken \uD83D text', 255);
    expect(cleaned).toBe('broken \uFFFD text');
    expect(() => encodeURIComponent(cleaned)).not.toThrow();
  });
});

describe('cleanText', () => {
  it('keeps line breaks, at most one blank line in a row, and drops other controls', () => {
    expect(cleanText('First line  \r\nsecond\u0007 line\n\n\n\nlast\ttab', 10_000)).toBe('First line\nsecond line\n\nlast tab');
  });
});

describe('truncate', () => {
  it('cuts at a word break in the last 20 % and marks the cut', () => {
    const cut = truncate('aaaa bbbb cccc dddd eeee', 17);
    expect(cut).toBe('aaaa bbbb cccc…');
    expect(Array.from(cut).length).toBeLessThanOrEqual(17);
  });

  it('cuts mid-word when no break is near the end', () => {
    expect(truncate('abcdefghijklmnopqrstuvwxyz', 10)).toBe('abcdefghi…');
  });

  it('never exceeds the limit nor splits a surrogate pair (property)', () => {
    const random = seeded(123);
    const alphabet = ['a', 'b', ' ', '😀', 'é', '\u4e2d', '𝄞'];
    for (let i = 0; i < 500; i++) {
      const len = Math.floor(random() * 60);
      const s = Array.from({ length: len }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const max = 1 + Math.floor(random() * 40);
      const out = truncate(s, max);
      expect(Array.from(out).length).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      if (Array.from(s).length <= max) expect(out).toBe(s);
    }
  });
});

describe('cleanNames', () => {
  it('drops empties and case-insensitive duplicates, keeps order, caps the count', () => {
    expect(cleanNames([' Outdoor ', '', null, 'outdoor', 'Sunset', 'Beach', 'Night'], 3)).toEqual(['Outdoor', 'Sunset', 'Beach']);
  });

  it('caps each name length', () => {
    const [name] = cleanNames(['x'.repeat(300)], 5);
    expect(Array.from(name!).length).toBe(255);
  });
});
