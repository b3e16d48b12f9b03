// A bounded cache of decoded audio (8 kHz PCM), least recently used out first, that shares one
// conversion among concurrent callers of the same key: lru-cache, sized by the audio's bytes.
import { LRUCache } from "lru-cache";

interface Entry {
  pcm: Int16Array;
  tag: string;
}

type Make = () => Promise<{ value: Int16Array; tag: string }>;

export class MediaCache<K extends {}> {
  readonly #entries: LRUCache<K, Entry, Make>;

  constructor(maxBytes: number) {
    this.#entries = new LRUCache<K, Entry, Make>({
      maxSize: maxBytes,
      // lru-cache wants a positive size; an empty clip still takes an entry.
      sizeCalculation: (e) => Math.max(1, e.pcm.byteLength),
      // fetch() shares one pending make() among concurrent callers of a key.
      fetchMethod: async (_key, _stale, { context }) => {
        const { value, tag } = await context();
        return { pcm: value, tag };
      },
    });
  }

  /** The entry for `key` without making it more recent (to revalidate it with its tag). */
  peek(key: K): Entry | undefined {
    return this.#entries.peek(key);
  }

  /** The cached audio for `key`, else what `make` produces (stored with its tag, e.g. an ETag). */
  async get(key: K, make: Make): Promise<Int16Array> {
    const entry = await this.#entries.fetch(key, { context: make });
    if (!entry) throw new Error("media cache: no audio made"); // make() always returns one
    return entry.pcm;
  }

  /** Stores the audio; audio larger than the whole cache is not kept (and drops the key's old audio). */
  put(key: K, pcm: Int16Array, tag: string): void {
    this.#entries.set(key, { pcm, tag });
  }
}
