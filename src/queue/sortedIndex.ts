/**
 * An in-memory mirror of one ordered LevelDB index (ready, delayed, dlq, done). The worker is the
 * single writer, so the head is read from memory instead of a fresh iterator that would walk the
 * tombstones of deleted keys (reference/queue-research.md §3.6).
 */
export class SortedIndex<V> {
  private keys: string[] = [];
  private head = 0;
  private readonly values = new Map<string, V>();

  get size(): number {
    return this.values.size;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  insert(key: string, value: V): void {
    if (this.values.has(key)) {
      this.values.set(key, value);
      return;
    }
    this.values.set(key, value);
    const last = this.keys[this.keys.length - 1];
    // Appends are the common case (sequences and times grow).
    if (last === undefined || this.keys.length === this.head || last < key) this.keys.push(key);
    else this.keys.splice(this.lowerBound(key), 0, key);
  }

  delete(key: string): boolean {
    if (!this.values.delete(key)) return false;
    if (this.keys[this.head] === key) {
      this.head++;
      this.maybeShrink();
      return true;
    }
    const at = this.lowerBound(key);
    if (this.keys[at] === key) this.keys.splice(at, 1);
    return true;
  }

  first(): [string, V] | undefined {
    const key = this.keys[this.head];
    if (key === undefined) return undefined;
    return [key, this.values.get(key) as V];
  }

  *entries(): IterableIterator<[string, V]> {
    // Snapshot the key list so callers may delete while iterating.
    const keys = this.keys.slice(this.head);
    for (const key of keys) {
      const value = this.values.get(key);
      if (value !== undefined || this.values.has(key)) yield [key, value as V];
    }
  }

  clear(): void {
    this.keys = [];
    this.head = 0;
    this.values.clear();
  }

  private lowerBound(key: string): number {
    let lo = this.head;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private maybeShrink(): void {
    if (this.head === this.keys.length) {
      this.keys = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.head = 0;
    }
  }
}
