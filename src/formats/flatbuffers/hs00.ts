// hs00 (deprecated, still sent by old just-bin-it): histograms with unsigned integer types.
import {
  decodeHistogram,
  encodeHistogram,
  type Hs00Input,
  type Hs00Message,
  hs00Schema,
} from "./histogram.ts";

export function encodeHs00(h: Hs00Input): Uint8Array {
  return encodeHistogram(hs00Schema, h);
}

export function decodeHs00(buf: Uint8Array): Hs00Message {
  // decodeHistogram only yields the hs00 members (uint32, uint64, float64, float32) for this schema.
  return { schema: "hs00", ...(decodeHistogram(hs00Schema, buf) as Hs00Input) };
}
