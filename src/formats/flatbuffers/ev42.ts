// ev42 (ev42_events.fbs + is84/dtdb facility data): neutron events for one pulse. Root table EventMessage.
import type { Builder } from "flatbuffers";
import { FormatError } from "./errors.ts";
import { MessageReader, type TableReader } from "./reader.ts";
import {
  checkInt32,
  checkInt64,
  finish,
  newBuilder,
  numericVector,
  stringBytes,
  vectorBytes,
} from "./writer.ts";

/** is84 ISISData (union member 1). */
export interface IsisData {
  type: "ISISData";
  periodNumber: number;
  /** RunState enum: 0 SETUP, 1 RUNNING. */
  runState: number;
  protonCharge: number;
}

/** dtdb AdcPulseDebug (union member 2); every field optional. */
export interface AdcPulseDebug {
  type: "AdcPulseDebug";
  amplitude?: Uint32Array;
  peakArea?: Uint32Array;
  background?: Uint32Array;
  thresholdTime?: BigUint64Array;
  peakTime?: BigUint64Array;
}

export interface Ev42Message {
  schema: "ev42";
  sourceName: string;
  messageId: bigint;
  /** ns since the Unix epoch. */
  pulseTime: bigint;
  /** ns since pulseTime. */
  timeOfFlight: Uint32Array;
  detectorId: Uint32Array;
  facilityData?: IsisData | AdcPulseDebug;
}

export type Ev42Input = Omit<Ev42Message, "schema">;

const SOURCE_NAME = 0;
const MESSAGE_ID = 1;
const PULSE_TIME = 2;
const TIME_OF_FLIGHT = 3;
const DETECTOR_ID = 4;
const FACILITY_TYPE = 5;
const FACILITY_DATA = 6;
const FACILITY_ISIS = 1;
const FACILITY_ADC = 2;

function encodeFacility(b: Builder, f: IsisData | AdcPulseDebug): number {
  if (f.type === "ISISData") {
    b.startObject(3);
    b.addFieldInt32(0, checkInt32(f.periodNumber, false, "ev42 ISISData.period_number"), 0);
    b.addFieldInt8(1, f.runState, 0);
    b.addFieldFloat32(2, f.protonCharge, 0);
    return b.endObject();
  }
  const vectors = [f.amplitude, f.peakArea, f.background, f.thresholdTime, f.peakTime].map((v) =>
    v === undefined ? 0 : numericVector(b, v),
  );
  b.startObject(5);
  vectors.forEach((v, id) => {
    if (v !== 0) b.addFieldOffset(id, v, 0);
  });
  return b.endObject();
}

export function encodeEv42(m: Ev42Input): Uint8Array {
  // An empty time_of_flight with detector ids is detector-only data (just-bin-it's generate_event_data --det-hist).
  if (m.detectorId.length !== m.timeOfFlight.length && m.timeOfFlight.length !== 0) {
    throw new FormatError(
      `ev42: detector_id has ${m.detectorId.length} entries but time_of_flight has ${m.timeOfFlight.length}`,
    );
  }
  const f = m.facilityData;
  const facilityBytes =
    f === undefined || f.type === "ISISData"
      ? 64
      : [f.amplitude, f.peakArea, f.background, f.thresholdTime, f.peakTime].reduce(
          (n, v) => n + vectorBytes(v),
          64,
        );
  const b = newBuilder(
    stringBytes(m.sourceName) + vectorBytes(m.timeOfFlight) + vectorBytes(m.detectorId) + facilityBytes,
  );
  // Same call order as Python's serialise_ev42 (byte-identical output).
  const source = b.createString(m.sourceName);
  const tof = numericVector(b, m.timeOfFlight);
  const det = numericVector(b, m.detectorId);
  const facility = f === undefined ? 0 : encodeFacility(b, f);
  b.startObject(7);
  b.addFieldOffset(DETECTOR_ID, det, 0);
  b.addFieldOffset(TIME_OF_FLIGHT, tof, 0);
  b.addFieldInt64(PULSE_TIME, checkInt64(m.pulseTime, false, "ev42 pulse_time"), 0n);
  b.addFieldInt64(MESSAGE_ID, checkInt64(m.messageId, false, "ev42 message_id"), 0n);
  b.addFieldOffset(SOURCE_NAME, source, 0);
  if (f !== undefined) {
    b.addFieldInt8(FACILITY_TYPE, f.type === "ISISData" ? FACILITY_ISIS : FACILITY_ADC, 0);
    b.addFieldOffset(FACILITY_DATA, facility, 0);
  }
  return finish(b, b.endObject(), "ev42");
}

function decodeFacility(t: TableReader): IsisData | AdcPulseDebug | undefined {
  const type = t.u8(FACILITY_TYPE, "facility_specific_data_type");
  if (type === 0) return undefined;
  const data = t.table(FACILITY_DATA, "facility_specific_data");
  if (data === undefined)
    throw new FormatError(`ev42: facility_specific_data_type is ${type} but the data is missing`);
  if (type === FACILITY_ISIS) {
    return {
      type: "ISISData",
      periodNumber: data.u32(0, "period_number"),
      runState: data.i8(1, "run_state"),
      protonCharge: data.f32(2, "proton_charge"),
    };
  }
  if (type === FACILITY_ADC) {
    const out: AdcPulseDebug = { type: "AdcPulseDebug" };
    const amplitude = data.vector(0, "amplitude", "uint32");
    const peakArea = data.vector(1, "peak_area", "uint32");
    const background = data.vector(2, "background", "uint32");
    const thresholdTime = data.vector(3, "threshold_time", "uint64");
    const peakTime = data.vector(4, "peak_time", "uint64");
    if (amplitude) out.amplitude = amplitude;
    if (peakArea) out.peakArea = peakArea;
    if (background) out.background = background;
    if (thresholdTime) out.thresholdTime = thresholdTime;
    if (peakTime) out.peakTime = peakTime;
    return out;
  }
  throw new FormatError(`ev42: unknown facility_specific_data_type ${type}`);
}

export function decodeEv42(buf: Uint8Array): Ev42Message {
  const root = new MessageReader(buf, "ev42").root("EventMessage");
  // Optional in ev42 (unlike ev44); Python would crash on it, histd reads it as "".
  const sourceName = root.string(SOURCE_NAME, "source_name") ?? "";
  const timeOfFlight = root.vector(TIME_OF_FLIGHT, "time_of_flight", "uint32") ?? new Uint32Array(0);
  const detectorId = root.vector(DETECTOR_ID, "detector_id", "uint32") ?? new Uint32Array(0);
  // Checked so consumers can walk both arrays in lockstep; an empty time_of_flight with detector ids is
  // detector-only data (just-bin-it's generate_event_data --det-hist writes it, streaming_data_types reads it).
  if (detectorId.length !== timeOfFlight.length && timeOfFlight.length !== 0) {
    throw new FormatError(
      `ev42: detector_id has ${detectorId.length} entries but time_of_flight has ${timeOfFlight.length}`,
    );
  }
  const msg: Ev42Message = {
    schema: "ev42",
    sourceName,
    messageId: root.u64(MESSAGE_ID, "message_id") ?? 0n,
    pulseTime: root.u64(PULSE_TIME, "pulse_time") ?? 0n,
    timeOfFlight,
    detectorId,
  };
  const facilityData = decodeFacility(root);
  if (facilityData !== undefined) msg.facilityData = facilityData;
  return msg;
}
