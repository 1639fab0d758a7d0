/**
 * The server's key-value store: keys are bytes, values are byte arrays, and both the number of
 * keys and the bytes held (keys and values together) are bounded. A key is kept as a string of
 * one character per byte (latin1), so that two keys are the same key exactly when their bytes
 * are the same.
 */

export class Store {
  private readonly map = new Map<string, Uint8Array>();
  /** Bytes held: every key's length plus its value's. */
  bytes = 0;

  /**
   * `maxKeys`: keys held at most (below 2^24, a `Map`'s own limit); `maxBytes`: bytes held at
   * most, keys and values counted.
   */
  constructor(
    readonly maxKeys: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  /** True when a value of `len` bytes can be stored under `key` within the limits (replacing its old value). */
  fits(key: string, len: number): boolean {
    const old = this.map.get(key);
    const keys = this.map.size + (old === undefined ? 1 : 0);
    const bytes = this.bytes + len - (old === undefined ? -key.length : old.length);
    return keys <= this.maxKeys && bytes <= this.maxBytes;
  }

  /** Store `value` under `key`; the caller checked {@link fits}. */
  set(key: string, value: Uint8Array): void {
    const old = this.map.get(key);
    this.bytes += value.length - (old === undefined ? -key.length : old.length);
    this.map.set(key, value);
  }

  /** Remove `key`; false when it was not there. */
  delete(key: string): boolean {
    const old = this.map.get(key);
    if (old === undefined) return false;
    this.map.delete(key);
    this.bytes -= key.length + old.length;
    return true;
  }
}
