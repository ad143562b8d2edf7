import { describe, expect, it } from 'vitest';
import { decodePart, hex, readyPart, timedPart, timedUpTo } from '../../src/queue/keys';
import { int, pick, rng } from '../support/random';

const compareTuples = (a: number[], b: number[]): number => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
};
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Numbers drawn to hit the edges: small, near powers of 16, and the top of the range. */
function drawNumber(r: () => number, max: number): number {
  const kind = int(r, 0, 3);
  if (kind === 0) return int(r, 0, 20);
  if (kind === 1) return Math.min(max, 16 ** int(r, 1, 12) + int(r, -1, 1));
  if (kind === 2) return max - int(r, 0, 3);
  return Math.floor(r() * max);
}

describe('key encoding', () => {
  it('ready keys sort exactly like (priority, seq) tuples', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const tuples = Array.from({ length: 200 }, () => [int(r, 0, 255), drawNumber(r, 0xffff_ffff_ffff)]);
      const byTuple = [...tuples].sort(compareTuples).map(([p, s]) => readyPart(p!, s!));
      const byKey = tuples.map(([p, s]) => readyPart(p!, s!)).sort(byBytes);
      expect(byKey, `seed ${seed}`).toEqual(byTuple);
    }
  });

  it('timed keys sort exactly like (time, seq) tuples and decode back to them', () => {
    for (let seed = 100; seed < 130; seed++) {
      const r = rng(seed);
      const tuples = Array.from({ length: 200 }, () => [drawNumber(r, 0xffff_ffff_ffff), drawNumber(r, 0xffff_ffff_ffff)]);
      const byTuple = [...tuples].sort(compareTuples);
      const byKey = tuples.map(([t, s]) => timedPart(t!, s!)).sort(byBytes);
      expect(byKey.map(decodePart), `seed ${seed}`).toEqual(byTuple);
    }
  });

  it('timedUpTo bounds every key at or before a time and none after', () => {
    const r = rng(7);
    for (let i = 0; i < 500; i++) {
      const bound = drawNumber(r, 0xffff_ffff_fffe);
      const t = pick(r, [bound - 1, bound, bound + 1].filter((x) => x >= 0));
      const key = timedPart(t, drawNumber(r, 0xffff_ffff_ffff));
      expect(key < timedUpTo(bound)).toBe(t <= bound);
    }
  });

  it('refuses numbers that do not fit their width instead of mis-sorting them', () => {
    expect(() => hex(2 ** 48, 12)).toThrow(/does not fit 12 hex digits/);
    expect(() => hex(-1, 12)).toThrow(RangeError);
    expect(() => hex(1.5, 12)).toThrow(RangeError);
    expect(() => readyPart(256, 1)).toThrow(/does not fit 2 hex digits/);
  });
});
