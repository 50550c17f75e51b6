// Broker configuration for the test broker: server.properties (KRaft, single combined node) and logging.
import { resolve } from "node:path";

export const host = "127.0.0.1";

/** Credentials the SASL listeners accept. PLAIN users live in the JAAS line, SCRAM users are seeded at format. */
export const testUsers = {
  plain: { username: "alice", password: "alice-secret" },
  scram: { username: "histd", password: "histd-secret" },
} as const;

export interface Ports {
  plain: number;
  controller: number;
  sasl?: number;
  ssl?: number;
  saslSsl?: number;
}

function jaasPlain(): string {
  const users = [testUsers.plain, { username: "admin", password: "admin-secret" }]
    .map((u) => `user_${u.username}="${u.password}"`)
    .join(" ");
  // username/password are only the broker's own identity for outgoing connections (unused here).
  return `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" ${users};`;
}

export function serverProperties(dir: string, p: Ports, keystore?: string, ca?: string): string {
  const listeners = [`PLAINTEXT://${host}:${p.plain}`];
  if (p.sasl) listeners.push(`SASL_PLAINTEXT://${host}:${p.sasl}`);
  if (p.ssl) listeners.push(`SSL://${host}:${p.ssl}`);
  if (p.saslSsl) listeners.push(`SASL_SSL://${host}:${p.saslSsl}`);
  const lines = [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.bootstrap.servers=${host}:${p.controller}`,
    `listeners=${[...listeners, `CONTROLLER://${host}:${p.controller}`].join(",")}`,
    `advertised.listeners=${listeners.join(",")}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL",
    `log.dirs=${resolve(dir, "data")}`,
    "num.partitions=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    // The 3 s default delays every consumer-group join in tests.
    "group.initial.rebalance.delay.ms=0",
    // Tests create their topics explicitly, so a typo fails instead of silently creating a topic.
    "auto.create.topics.enable=false",
    "delete.topic.enable=true",
    // Histogram messages (1000x1000 float64 = 8 MB) exceed the ~1 MB default.
    "message.max.bytes=104857600",
    "replica.fetch.max.bytes=104857600",
    "socket.request.max.bytes=104857600",
  ];
  if (p.sasl || p.saslSsl) {
    lines.push("sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512");
    for (const l of [p.sasl && "sasl_plaintext", p.saslSsl && "sasl_ssl"]) {
      if (!l) continue;
      lines.push(`listener.name.${l}.plain.sasl.jaas.config=${jaasPlain()}`);
      for (const m of ["scram-sha-256", "scram-sha-512"]) {
        lines.push(
          `listener.name.${l}.${m}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
        );
      }
    }
  }
  if (keystore && ca) {
    lines.push(
      "ssl.keystore.type=PEM",
      `ssl.keystore.location=${keystore}`,
      "ssl.truststore.type=PEM",
      `ssl.truststore.location=${ca}`,
      "ssl.client.auth=none",
    );
  }
  return `${lines.join("\n")}\n`;
}

export const log4j2Properties = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = OUT
# KafkaRaftServer logs "Kafka Server started", the readiness signal.
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
`;
