// ev44 (ev44_events.fbs): neutron events for one or more pulses. Root table Event44Message.
import { FormatError } from "./errors.ts";
import { MessageReader } from "./reader.ts";
import { checkInt64, finish, newBuilder, numericVector, stringBytes, vectorBytes } from "./writer.ts";

export interface Ev44Message {
  schema: "ev44";
  sourceName: string;
  messageId: bigint;
  /** ns since the Unix epoch, one per pulse in this message. */
  referenceTime: BigInt64Array;
  /** Index into timeOfFlight where each reference time's events start; same length as referenceTime. */
  referenceTimeIndex: Int32Array;
  /** ns since the event's reference time. */
  timeOfFlight: Int32Array;
  /** One per event, or undefined when the message carries none (implicit pixel, e.g. a monitor). */
  pixelId: Int32Array | undefined;
}

export type Ev44Input = Omit<Ev44Message, "schema">;

// Field ids (declaration order in the schema).
const SOURCE_NAME = 0;
const MESSAGE_ID = 1;
const REFERENCE_TIME = 2;
const REFERENCE_TIME_INDEX = 3;
const TIME_OF_FLIGHT = 4;
const PIXEL_ID = 5;

export function encodeEv44(m: Ev44Input): Uint8Array {
  if (m.referenceTime.length !== m.referenceTimeIndex.length) {
    throw new FormatError(
      `ev44: reference_time (${m.referenceTime.length}) and reference_time_index (${m.referenceTimeIndex.length}) differ in length`,
    );
  }
  if (m.pixelId !== undefined && m.pixelId.length !== 0 && m.pixelId.length !== m.timeOfFlight.length) {
    throw new FormatError(
      `ev44: pixel_id has ${m.pixelId.length} entries but time_of_flight has ${m.timeOfFlight.length}`,
    );
  }
  const pixelId = m.pixelId ?? new Int32Array(0);
  const b = newBuilder(
    stringBytes(m.sourceName) +
      vectorBytes(m.referenceTime) +
      vectorBytes(m.referenceTimeIndex) +
      vectorBytes(m.timeOfFlight) +
      vectorBytes(pixelId),
  );
  // Same call order as Python's serialise_ev44 (byte-identical output).
  const source = b.createString(m.sourceName);
  const refTime = numericVector(b, m.referenceTime);
  const refIndex = numericVector(b, m.referenceTimeIndex);
  const tof = numericVector(b, m.timeOfFlight);
  const pixels = numericVector(b, pixelId);
  b.startObject(6);
  b.addFieldOffset(REFERENCE_TIME, refTime, 0);
  b.addFieldOffset(REFERENCE_TIME_INDEX, refIndex, 0);
  b.addFieldOffset(TIME_OF_FLIGHT, tof, 0);
  b.addFieldOffset(PIXEL_ID, pixels, 0);
  b.addFieldInt64(MESSAGE_ID, checkInt64(m.messageId, true, "ev44 message_id"), 0n);
  b.addFieldOffset(SOURCE_NAME, source, 0);
  return finish(b, b.endObject(), "ev44");
}

export function decodeEv44(buf: Uint8Array): Ev44Message {
  const root = new MessageReader(buf, "ev44").root("Event44Message");
  const sourceName = root.string(SOURCE_NAME, "source_name");
  if (sourceName === undefined) throw new FormatError("ev44: required field source_name is missing");
  const referenceTime = root.vector(REFERENCE_TIME, "reference_time", "int64");
  if (referenceTime === undefined) throw new FormatError("ev44: required field reference_time is missing");
  const referenceTimeIndex = root.vector(REFERENCE_TIME_INDEX, "reference_time_index", "int32");
  if (referenceTimeIndex === undefined) {
    throw new FormatError("ev44: required field reference_time_index is missing");
  }
  const timeOfFlight = root.vector(TIME_OF_FLIGHT, "time_of_flight", "int32") ?? new Int32Array(0);
  const pixels = root.vector(PIXEL_ID, "pixel_id", "int32");
  // Checked here so consumers can index the arrays in lockstep without reading past an end.
  if (referenceTime.length !== referenceTimeIndex.length) {
    throw new FormatError(
      `ev44: reference_time (${referenceTime.length}) and reference_time_index (${referenceTimeIndex.length}) differ in length`,
    );
  }
  if (pixels !== undefined && pixels.length !== 0 && pixels.length !== timeOfFlight.length) {
    throw new FormatError(
      `ev44: pixel_id has ${pixels.length} entries but time_of_flight has ${timeOfFlight.length}`,
    );
  }
  return {
    schema: "ev44",
    sourceName,
    messageId: root.i64(MESSAGE_ID, "message_id") ?? 0n,
    referenceTime,
    referenceTimeIndex,
    timeOfFlight,
    pixelId: pixels === undefined || pixels.length === 0 ? undefined : pixels,
  };
}
