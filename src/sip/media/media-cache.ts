// A bounded cache of decoded audio (8 kHz PCM), least recently used out first, that shares one
// conversion among concurrent callers of the same key.

interface Entry {
  pcm: Int16Array;
  tag: string;
}

export class MediaCache<K> {
  readonly #entries = new Map<K, Entry>();
  readonly #pending = new Map<K, Promise<Int16Array>>();
  #bytes = 0;

  constructor(private readonly maxBytes: number) {}

  peek(key: K): Entry | undefined {
    return this.#entries.get(key);
  }

  /** The cached audio for `key`, else what `make` produces (stored with its tag, e.g. an ETag). */
  get(key: K, make: () => Promise<{ value: Int16Array; tag: string }>): Promise<Int16Array> {
    const hit = this.#entries.get(key);
    if (hit) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return Promise.resolve(hit.pcm);
    }
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const p = make()
      .then(({ value, tag }) => {
        this.put(key, value, tag);
        return value;
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, p);
    return p;
  }

  put(key: K, pcm: Int16Array, tag: string): void {
    const old = this.#entries.get(key);
    if (old) this.#bytes -= old.pcm.byteLength;
    this.#entries.delete(key);
    if (pcm.byteLength > this.maxBytes) return;
    this.#entries.set(key, { pcm, tag });
    this.#bytes += pcm.byteLength;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.pcm.byteLength;
    }
  }
}
