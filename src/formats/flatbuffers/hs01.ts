// hs01: histograms with signed integer types (what current just-bin-it sends).
import {
  decodeHistogram,
  encodeHistogram,
  type Hs01Input,
  type Hs01Message,
  hs01Schema,
} from "./histogram.ts";

export function encodeHs01(h: Hs01Input): Uint8Array {
  return encodeHistogram(hs01Schema, h);
}

export function decodeHs01(buf: Uint8Array): Hs01Message {
  // decodeHistogram only yields the hs01 members (int32, int64, float64, float32) for this schema.
  return { schema: "hs01", ...(decodeHistogram(hs01Schema, buf) as Hs01Input) };
}
