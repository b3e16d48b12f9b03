// The cache of decoded <Play> audio: bounded by bytes, least recently used out first, one conversion
// shared by concurrent callers, nothing kept that is larger than the whole cache.
import { describe, expect, it } from "vitest";
import { MediaCache } from "../../src/sip/media/media-cache.js";

const pcm = (samples: number) => new Int16Array(samples); // 2 bytes a sample

describe("MediaCache", () => {
  it("evicts the least recently used audio once its bytes are over the bound", async () => {
    const cache = new MediaCache<string>(100);
    cache.put("a", pcm(20), "ta");
    cache.put("b", pcm(20), "tb");
    await cache.get("a", () => Promise.reject(new Error("a is cached"))); // a is now the most recent
    cache.put("c", pcm(20), "tc"); // 120 bytes: b goes
    expect(cache.peek("b")).toBeUndefined();
    expect(cache.peek("a")?.tag).toBe("ta");
    expect(cache.peek("c")?.tag).toBe("tc");
  });

  it("peek does not make an entry more recent", () => {
    const cache = new MediaCache<string>(80);
    cache.put("a", pcm(20), "ta");
    cache.put("b", pcm(20), "tb");
    cache.peek("a");
    cache.put("c", pcm(20), "tc");
    expect(cache.peek("a")).toBeUndefined();
    expect(cache.peek("b")?.tag).toBe("tb");
  });

  it("shares one conversion among concurrent callers, and keeps no failure", async () => {
    const cache = new MediaCache<string>(1000);
    let made = 0;
    const make = async () => {
      made++;
      return { value: pcm(4), tag: "t" };
    };
    const [x, y] = await Promise.all([cache.get("k", make), cache.get("k", make)]);
    expect(made).toBe(1);
    expect(x).toBe(y);
    await expect(cache.get("bad", () => Promise.reject(new Error("no sox")))).rejects.toThrow("no sox");
    expect(await cache.get("bad", make)).toHaveLength(4);
  });

  it("keeps no audio larger than the whole cache, and drops the key's older audio", () => {
    const cache = new MediaCache<string>(100);
    cache.put("a", pcm(10), "old");
    cache.put("a", pcm(100), "huge");
    expect(cache.peek("a")).toBeUndefined();
    cache.put("empty", pcm(0), "e");
    expect(cache.peek("empty")?.tag).toBe("e");
  });
});
