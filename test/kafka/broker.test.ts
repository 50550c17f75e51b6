// End-to-end against a real Kafka broker: create a 2-partition topic, produce ev44 messages encoded by
// histd, consume and decode them, over PLAINTEXT, SASL (PLAIN, SCRAM-SHA-256/512) and SSL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Admin, type ConnectionOptions, Consumer, Producer } from "@platformatic/kafka";
import { decodeEvents, type Ev44Input, encodeEv44 } from "../../src/formats/flatbuffers/index.ts";
import { type Broker, startBroker, testUsers } from "../support/kafka-broker.ts";

type Connection = ConnectionOptions & { bootstrapBrokers: string[] };

let broker: Broker;

// One broker for the whole file: starting one costs ~5-8 s, the round trips well under 1 s each.
before(
  async () => {
    broker = await startBroker({ sasl: true, ssl: true });
    console.log(`# Kafka broker with SASL and SSL listeners ready in ${broker.startupMs} ms`);
  },
  { timeout: 180_000 },
);

after(async () => {
  await broker?.stop();
});

function events(i: number): Ev44Input {
  const n = 100 + i;
  return {
    sourceName: `detector_${i % 2}`,
    messageId: BigInt(i),
    referenceTime: BigInt64Array.from([1_700_000_000_000_000_000n + BigInt(i) * 71_428_571n]),
    referenceTimeIndex: Int32Array.from([0]),
    timeOfFlight: Int32Array.from({ length: n }, (_, k) => k * 1000 + i),
    pixelId: Int32Array.from({ length: n }, (_, k) => (k * 7 + i) % 4096),
  };
}

/** The client wraps failures in AggregateErrors; flatten them to find the root cause. */
function causes(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = e instanceof AggregateError ? e.errors.map(causes) : [];
  return [e.message, ...inner, ...(e.cause ? [causes(e.cause)] : [])].join(" <- ");
}

/** Creates a 2-partition topic, produces `count` ev44 messages to both partitions, consumes and decodes them. */
async function roundTrip(conn: Connection, topic: string, count = 10): Promise<void> {
  const clientId = `histd-test-${topic}`;
  const admin = new Admin({ clientId, ...conn });
  try {
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    const meta = await admin.metadata({ topics: [topic] });
    assert.equal(meta.topics.get(topic)?.partitionsCount, 2);
  } finally {
    await admin.close();
  }

  const sent = Array.from({ length: count }, (_, i) => events(i));
  const producer = new Producer({ clientId, ...conn });
  try {
    await producer.send({
      messages: sent.map((m, i) => {
        const bytes = encodeEv44(m);
        return {
          topic,
          partition: i % 2,
          key: Buffer.from(`k${i}`),
          value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        };
      }),
    });
  } finally {
    await producer.close();
  }

  const consumer = new Consumer({ clientId, groupId: `group-${topic}`, maxWaitTime: 200, ...conn });
  const received = new Map<bigint, { partition: number; value: Buffer }>();
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest" });
    try {
      for await (const msg of stream) {
        received.set(decodeEvents(msg.value).messageId, { partition: msg.partition, value: msg.value });
        if (received.size === count) break;
      }
    } finally {
      await stream.close();
    }
  } finally {
    await consumer.close();
  }

  assert.equal(received.size, count);
  const partitions = new Set([...received.values()].map((r) => r.partition));
  assert.deepEqual([...partitions].sort(), [0, 1], "messages came from both partitions");
  sent.forEach((m, i) => {
    const r = received.get(BigInt(i));
    assert.ok(r, `message ${i} received`);
    assert.equal(r.partition, i % 2);
    assert.deepEqual(decodeEvents(r.value), { schema: "ev44", ...m });
  });
}

describe("Kafka broker round trip of ev44 messages", { timeout: 120_000 }, () => {
  it("PLAINTEXT", async () => {
    await roundTrip({ bootstrapBrokers: [broker.bootstrap] }, "events-plaintext");
  });

  for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    it(`SASL_PLAINTEXT ${mechanism}`, async () => {
      assert.ok(broker.saslBootstrap);
      const user = mechanism === "PLAIN" ? testUsers.plain : testUsers.scram;
      const sasl = { mechanism, ...user };
      await roundTrip(
        { bootstrapBrokers: [broker.saslBootstrap], sasl },
        `events-sasl-${mechanism.toLowerCase()}`,
      );
    });
  }

  it("SASL rejects a wrong password", async () => {
    assert.ok(broker.saslBootstrap);
    const sasl = {
      mechanism: "SCRAM-SHA-256" as const,
      username: testUsers.scram.username,
      password: "wrong",
    };
    const admin = new Admin({
      clientId: "bad-password",
      bootstrapBrokers: [broker.saslBootstrap],
      sasl,
      retries: 0,
    });
    try {
      await assert.rejects(admin.metadata({ topics: [] }), (e) =>
        /SASL authentication failed/.test(causes(e)),
      );
    } finally {
      await admin.close();
    }
  });

  it("SSL (server certificate verified against the test CA)", async () => {
    assert.ok(broker.sslBootstrap && broker.caPem);
    await roundTrip({ bootstrapBrokers: [broker.sslBootstrap], tls: { ca: broker.caPem } }, "events-ssl");
  });

  it("SSL fails without the test CA (the certificate really is verified)", async () => {
    assert.ok(broker.sslBootstrap);
    const admin = new Admin({
      clientId: "no-ca",
      bootstrapBrokers: [broker.sslBootstrap],
      tls: {},
      retries: 0,
    });
    try {
      await assert.rejects(admin.metadata({ topics: [] }), (e) => /unable to verify/.test(causes(e)));
    } finally {
      await admin.close();
    }
  });

  it("SASL_SSL SCRAM-SHA-512", async () => {
    assert.ok(broker.saslSslBootstrap && broker.caPem);
    const sasl = { mechanism: "SCRAM-SHA-512" as const, ...testUsers.scram };
    await roundTrip(
      { bootstrapBrokers: [broker.saslSslBootstrap], tls: { ca: broker.caPem }, sasl },
      "events-sasl-ssl",
    );
  });

  // Last: it bounces the broker the other tests share.
  it("restart keeps topics and messages", async () => {
    await broker.restart();
    console.log(`# broker restarted in ${broker.startupMs} ms`);
    const consumer = new Consumer({
      clientId: "after-restart",
      groupId: "after-restart",
      bootstrapBrokers: [broker.bootstrap],
    });
    try {
      const stream = await consumer.consume({
        topics: ["events-plaintext"],
        mode: "earliest",
        maxWaitTime: 200,
      });
      let n = 0;
      for await (const msg of stream) {
        assert.equal(decodeEvents(msg.value).schema, "ev44");
        if (++n === 10) break;
      }
      await stream.close();
    } finally {
      await consumer.close();
    }
  });
});
