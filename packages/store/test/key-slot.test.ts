// keySlot against the cluster specification's examples and values Redis's CLUSTER KEYSLOT gives.
import { describe, expect, it } from "vitest";
import { keySlot } from "../src/key-slot.js";

describe("keySlot (HASH_SLOT of the Redis Cluster specification)", () => {
  it.each([
    ["123456789", 12_739], // CRC16/XMODEM check value 0x31C3
    ["foo", 12_182],
    ["{user1000}.following", 3_443],
    ["{user1000}.followers", 3_443], // one hash tag, one slot
    ["foo{}{bar}", 8_363], // an empty tag: the whole key is hashed
    ["foo{{bar}}zap", 4_015], // the tag is `{bar`
    ["foo{bar}{zap}", 5_061], // the first tag only
    ["é∂ƒ{ü}", 9_552], // bytes of UTF-8
  ])("%s → %i", (key, slot) => {
    expect(keySlot(key)).toBe(slot);
  });
});
