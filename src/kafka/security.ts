// Kafka security settings (just_bin_it/utilities/sasl_utils.py, just-bin-it.md §5.4) mapped onto
// @platformatic/kafka connection options; applied to every client histd creates.
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "@platformatic/kafka";

export interface SecurityFlags {
  securityProtocol?: string | undefined;
  saslMechanism?: string | undefined;
  saslUsername?: string | undefined;
  saslPassword?: string | undefined;
  sslCafile?: string | undefined;
}

const protocols = ["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"];
const mechanisms = ["PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256"] as const;

const pyList = (xs: readonly string[]) => `[${xs.map((x) => `'${x}'`).join(", ")}]`;

/** Validates the flags (just-bin-it's error texts) and builds the connection options. Plain `SSL` is an extension. */
export function connectionOptions(f: SecurityFlags): ConnectionOptions {
  const protocol = f.securityProtocol ?? "PLAINTEXT";
  if (!protocols.includes(protocol) && protocol !== "SSL")
    throw new Error(`Kafka security protocol ${protocol} not supported, use ${pyList(protocols)}`);
  const out: ConnectionOptions = {};
  if (protocol.startsWith("SASL_")) {
    const m = f.saslMechanism;
    if (!mechanisms.includes(m as (typeof mechanisms)[number]))
      throw new Error(`SASL mechanism ${m ?? "None"} not supported, use ${pyList(mechanisms)}`);
    if (!f.saslUsername || !f.saslPassword)
      throw new Error(`Username and password are required with ${protocol}`);
    out.sasl = {
      mechanism: m as (typeof mechanisms)[number],
      username: f.saslUsername,
      password: f.saslPassword,
    };
  }
  if (protocol.endsWith("SSL")) out.tls = f.sslCafile ? { ca: readFileSync(f.sslCafile, "utf8") } : {};
  return out;
}
