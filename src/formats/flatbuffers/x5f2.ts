// x5f2 (Status): the heartbeat/status message ESS services publish, e.g. just-bin-it on its status topic.
import { MessageReader } from "./reader.ts";
import { checkInt32, finish, newBuilder, stringBytes } from "./writer.ts";

export interface StatusMessage {
  schema: "x5f2";
  softwareName: string;
  softwareVersion: string;
  serviceId: string;
  hostName: string;
  processId: number;
  /** ms between heartbeats. */
  updateInterval: number;
  /** Free-form JSON status. */
  statusJson: string;
}

export type StatusInput = Omit<StatusMessage, "schema">;

const SOFTWARE_NAME = 0;
const SOFTWARE_VERSION = 1;
const SERVICE_ID = 2;
const HOST_NAME = 3;
const PROCESS_ID = 4;
const UPDATE_INTERVAL = 5;
const STATUS_JSON = 6;

export function encodeX5f2(m: StatusInput): Uint8Array {
  const strings = [m.softwareName, m.softwareVersion, m.serviceId, m.hostName, m.statusJson];
  const b = newBuilder(strings.reduce((n, s) => n + stringBytes(s), 64));
  // Same call order as Python's serialise_x5f2 (byte-identical output).
  const [name, version, service, host, json] = strings.map((s) => b.createString(s));
  b.startObject(7);
  b.addFieldOffset(SOFTWARE_NAME, name, 0);
  b.addFieldOffset(SOFTWARE_VERSION, version, 0);
  b.addFieldOffset(SERVICE_ID, service, 0);
  b.addFieldOffset(HOST_NAME, host, 0);
  b.addFieldInt32(PROCESS_ID, checkInt32(m.processId, false, "x5f2 process_id"), 0);
  b.addFieldInt32(UPDATE_INTERVAL, checkInt32(m.updateInterval, false, "x5f2 update_interval"), 0);
  b.addFieldOffset(STATUS_JSON, json, 0);
  return finish(b, b.endObject(), "x5f2");
}

/** Absent strings (nothing in x5f2 is required) decode as "". */
export function decodeX5f2(buf: Uint8Array): StatusMessage {
  const t = new MessageReader(buf, "x5f2").root("Status");
  return {
    schema: "x5f2",
    softwareName: t.string(SOFTWARE_NAME, "software_name") ?? "",
    softwareVersion: t.string(SOFTWARE_VERSION, "software_version") ?? "",
    serviceId: t.string(SERVICE_ID, "service_id") ?? "",
    hostName: t.string(HOST_NAME, "host_name") ?? "",
    processId: t.u32(PROCESS_ID, "process_id"),
    updateInterval: t.u32(UPDATE_INTERVAL, "update_interval"),
    statusJson: t.string(STATUS_JSON, "status_json") ?? "",
  };
}
