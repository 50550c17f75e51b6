// The Kafka broker's jars, fetched from Maven Central with scripts/kafka/pom.xml into .kafka/libs (gitignored).
// Debian packages no Kafka broker and there is no Docker, so the broker runs from these jars on the local JVM.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { repoRoot } from "./python.ts";

export const kafkaDir = resolve(repoRoot, ".kafka");
export const kafkaLibs = resolve(kafkaDir, "libs");
const pom = resolve(repoRoot, "scripts/kafka/pom.xml");

/** The Kafka version pinned in scripts/kafka/pom.xml. */
export function kafkaVersion(): string {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, "utf8"));
  if (!m) throw new Error(`no <kafka.version> in ${pom}`);
  return m[1];
}

/** `java` from JAVA_HOME if set, else from PATH. */
export function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  return home ? resolve(home, "bin/java") : "java";
}

/** Fails with an actionable message unless a Java 17+ runtime is available (Kafka 4 brokers need 17). */
export function checkJava(): void {
  const java = javaBinary();
  const r = spawnSync(java, ["-version"], { encoding: "utf8" });
  if (r.error) {
    throw new Error(
      `Kafka test broker: cannot run "${java}" (${r.error.message}). Install Java 17+ ` +
        "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME.",
    );
  }
  const m = /version "(\d+)(?:\.(\d+))?/.exec(r.stderr);
  const major = m ? (m[1] === "1" ? Number(m[2]) : Number(m[1])) : 0;
  if (major < 17) {
    throw new Error(
      `Kafka test broker: Kafka 4 needs Java 17+, but "${java} -version" says: ${r.stderr.trim()}`,
    );
  }
}

function jarsPresent(version: string): boolean {
  return existsSync(resolve(kafkaLibs, `kafka_2.13-${version}.jar`)) && readdirSync(kafkaLibs).length > 10;
}

/**
 * Makes sure .kafka/libs holds the broker jars of the pinned version, running Maven only when they are
 * missing. Maven writes into a private directory that is renamed into place, so concurrent test files
 * never see a half-filled libs directory.
 */
export function ensureKafkaJars(): string {
  const version = kafkaVersion();
  if (jarsPresent(version)) return kafkaLibs;
  const mvnCheck = spawnSync("mvn", ["-v"], { encoding: "utf8" });
  if (mvnCheck.error) {
    throw new Error(
      `Kafka test broker: the jars are not in ${kafkaLibs} and Maven is not available to fetch them ` +
        `(${mvnCheck.error.message}). Install Maven (Debian: apt-get install maven) or copy the jars there.`,
    );
  }
  mkdirSync(kafkaDir, { recursive: true });
  const staging = resolve(kafkaDir, `libs.fetch-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const args = ["-q", "-B", "-f", pom, "dependency:copy-dependencies", `-DoutputDirectory=${staging}`];
  const r = spawnSync("mvn", [...args, "-DincludeScope=runtime"], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0 || !existsSync(resolve(staging, `kafka_2.13-${version}.jar`))) {
    rmSync(staging, { recursive: true, force: true });
    const out = `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-20).join("\n");
    throw new Error(
      `Kafka test broker: fetching Kafka ${version} jars from Maven Central failed (mvn exit ${r.status}). ` +
        `Check network access to repo.maven.apache.org (or a mirror in ~/.m2/settings.xml).\n${out}`,
    );
  }
  if (existsSync(kafkaLibs) && !jarsPresent(version)) rmSync(kafkaLibs, { recursive: true, force: true });
  try {
    renameSync(staging, kafkaLibs);
  } catch {
    // Another process won the race and its jars are in place.
    rmSync(staging, { recursive: true, force: true });
    if (!jarsPresent(version))
      throw new Error(`Kafka test broker: could not move the jars into ${kafkaLibs}`);
  }
  return kafkaLibs;
}
