// A throwaway CA and server certificate for the test broker's TLS listeners, made with the system openssl.
// The SAN covers IP:127.0.0.1 and DNS:localhost because Node's TLS checks the SAN, not the CN.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

export interface TestCerts {
  /** PEM of the CA that signed the server certificate: what clients pass as `ca`. */
  caPem: string;
  caFile: string;
  /** PKCS#8 private key followed by the server certificate, the layout Kafka's PEM keystore expects. */
  keystoreFile: string;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (r.error) {
    throw new Error(
      `Kafka test broker: cannot run openssl (${r.error.message}); install it (apt-get install openssl)`,
    );
  }
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

export function makeTestCerts(dir: string): TestCerts {
  const days = "7";
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    days,
    "-subj",
    "/CN=histd test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  // OpenSSL 3 writes the unencrypted key as PKCS#8 ("BEGIN PRIVATE KEY"), which Kafka's PEM loader needs.
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ]);
  writeFileSync(
    resolve(dir, "server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
  );
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    days,
    "-extfile",
    "server.ext",
  ]);
  const keystoreFile = resolve(dir, "server.pem");
  const key = readFileSync(resolve(dir, "server.key"), "utf8");
  writeFileSync(keystoreFile, key + readFileSync(resolve(dir, "server.crt"), "utf8"));
  const caFile = resolve(dir, "ca.pem");
  return { caPem: readFileSync(caFile, "utf8"), caFile, keystoreFile };
}
