// A typed KV bucket holding JSON values, so operators can read them with `nats kv get`.
import type { KV, KvEntry } from "@nats-io/kv";

export class JsonKv<T> {
  constructor(readonly kv: KV) {}

  async get(key: string): Promise<T | undefined> {
    const e = await this.kv.get(key);
    return e && e.operation === "PUT" && e.length > 0 ? (e.json() as T) : undefined;
  }

  async put(key: string, value: T): Promise<number> {
    return this.kv.put(key, JSON.stringify(value));
  }

  /** Writes only when the key is absent; false when it already existed. */
  async create(key: string, value: T): Promise<boolean> {
    try {
      await this.kv.create(key, JSON.stringify(value));
      return true;
    } catch (err) {
      if (/wrong last sequence|key exists/i.test((err as Error).message)) return false;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.kv.delete(key);
  }

  static decode<T>(e: KvEntry): T | undefined {
    return e.operation === "PUT" && e.length > 0 ? (e.json() as T) : undefined;
  }
}
