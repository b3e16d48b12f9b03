// How storage is placed: by region tags in a cluster, not at all on a lone server (so `up` and the
// single-server tests behave as before), and as the environment says when it says so.
import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import {
  placementMode,
  replicaCount,
  routingMirrorStream,
  storePlacement,
  withPlacementHint,
} from "../../src/store/placement.js";

const lone = { info: { server_name: "switchboard" } } as unknown as NatsConnection;
const clustered = { info: { server_name: "us1-0", cluster: "us1" } } as unknown as NatsConnection;

describe("store placement", () => {
  it("places by region tag in a cluster and not at all on a lone server, by default", () => {
    expect(storePlacement(lone, "us1", {})).toEqual({ replicas: 1 });
    expect(storePlacement(clustered, "us1", {})).toEqual({
      placement: { tags: ["region:us1"] },
      replicas: 1,
    });
    expect(storePlacement(clustered, "global", {})).toMatchObject({ placement: { tags: ["region:global"] } });
  });

  it("follows SWITCHBOARD_PLACEMENT and SWITCHBOARD_REPLICAS", () => {
    const env = { SWITCHBOARD_PLACEMENT: "tags", SWITCHBOARD_REPLICAS: "3" };
    expect(storePlacement(lone, "ie1", env)).toEqual({ placement: { tags: ["region:ie1"] }, replicas: 3 });
    expect(storePlacement(clustered, "ie1", { SWITCHBOARD_PLACEMENT: "none" })).toEqual({ replicas: 1 });
    expect(() => placementMode({ SWITCHBOARD_PLACEMENT: "on" })).toThrow(/auto, tags or none/);
    expect(() => replicaCount({ SWITCHBOARD_REPLICAS: "2" })).toThrow(/1, 3 or 5/);
  });

  it("names each region's mirror of the routing table", () => {
    expect(routingMirrorStream("us1")).toBe("KV_sb_routing_us1");
    expect(routingMirrorStream("eu-west")).toBe("KV_sb_routing_eu_west");
  });

  it("says which tag is missing when no server can take a placed stream", async () => {
    const placed = storePlacement(clustered, "au1", {});
    const refused = withPlacementHint(placed, () =>
      Promise.reject(new Error("no suitable peers for placement, tags not matched ['region:au1']")),
    );
    await expect(refused).rejects.toThrow(/server_tags \["region:au1"\].*SWITCHBOARD_PLACEMENT=none/);
    const other = withPlacementHint(placed, () => Promise.reject(new Error("stream name already in use")));
    await expect(other).rejects.toThrow(/^stream name already in use$/);
  });
});
