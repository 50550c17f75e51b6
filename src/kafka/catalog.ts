// The Kafka door's histograms in the process catalog, so the dashboard and the REST API show them.
import type { Catalog, CatalogEntry, Kind } from "../catalog/index.ts";

/** What the catalog reads of a just-bin-it job (service.ts's Job, structurally). */
export interface KafkaJobLike {
  spec: { id: string; type: string; topic: string; dataTopics: string[] };
  state: {
    hist: {
      view(): { shape: number[]; edges: ArrayLike<number | bigint>[]; data: Float64Array };
      sum(): number;
    };
    readonly state: string;
    start: number | undefined;
    stop: number | undefined;
    lastPulseTime: bigint;
    lastStats?: { rate: number } | undefined;
    clear(): void;
  };
}

const KAFKA_KINDS = new Set<Kind>(["hist1d", "hist2d", "dethist", "roihist"]);

/**
 * Publishes one Kafka-door histogram into the catalog. Call `touch()` on the returned entry when it has new
 * counts (at each publish is enough) and `catalog.remove(entry)` when the job is replaced. Reading it never
 * disturbs the door's own statistics (it reads `lastStats`, never calls `info()`).
 */
export function catalogKafkaJob(catalog: Catalog, job: KafkaJobLike): CatalogEntry {
  const kind = KAFKA_KINDS.has(job.spec.type as Kind) ? (job.spec.type as Kind) : "hist";
  const names = kind === "dethist" ? ["x", "y"] : kind === "roihist" ? ["x", "row"] : ["tof", "det"];
  return catalog.add({
    door: "kafka",
    id: job.spec.id,
    kind,
    view: () => {
      const v = job.state.hist.view();
      return {
        edges: v.edges.map((e) => Array.from(e, Number)),
        names: names.slice(0, v.shape.length),
        data: v.data,
      };
    },
    info: () => ({
      state: job.state.state,
      sum: job.state.hist.sum(),
      rate: job.state.lastStats?.rate ?? 0,
      lastPulseTime: job.state.lastPulseTime.toString(),
      start: job.state.start,
      stop: job.state.stop,
      sourceTopic: job.spec.dataTopics[0],
      outputTopic: job.spec.topic,
    }),
    reset: () => job.state.clear(),
  });
}
