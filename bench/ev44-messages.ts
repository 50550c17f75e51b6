// The Kafka benches' event data: ev44 messages of 12,400 events (the size ESS detectors send), time-of-flight
// uniform over 0-71 ms and pixel ids uniform over a range, from a seeded generator so every run sends the same bytes.
import { encodeEv44 } from "../src/formats/flatbuffers/index.ts";

export const EVENTS_PER_MESSAGE = 12_400;

/** `count` ev44 messages; pixel ids uniform over [lo, lo + pixels). */
export function ev44Messages(
  count: number,
  o: { pixels?: number; lo?: number; seed?: number; pulseMs?: number } = {},
): Buffer[] {
  const { pixels = 1_000_000, lo = 0, pulseMs = Date.now() } = o;
  let s = o.seed ?? 1;
  const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, (_, i) => {
    const tof = Int32Array.from({ length: EVENTS_PER_MESSAGE }, () => Math.floor(rnd() * 71_000_000));
    const pix = Int32Array.from({ length: EVENTS_PER_MESSAGE }, () => lo + Math.floor(rnd() * pixels));
    const b = encodeEv44({
      sourceName: "bench",
      messageId: BigInt(i),
      referenceTime: BigInt64Array.of(BigInt(pulseMs) * 1_000_000n),
      referenceTimeIndex: Int32Array.of(0),
      timeOfFlight: tof,
      pixelId: pix,
    });
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  });
}
