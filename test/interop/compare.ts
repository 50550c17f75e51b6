// Axis comparison against boost-histogram's serialized axes, with the two known, documented exceptions.
import assert from "node:assert/strict";
import { stringifyPyJson, type UhiAxis } from "../../src/engine/index.ts";

/** Edges that cannot match to the bit: boost writes circular variable edges wrongly (its circular value() uses
 * std::modf backwards), and log/pow transforms go through libm's log/exp/pow, which JS does not reproduce to the
 * last bit (those are compared to 4 ulp; the cells are still compared exactly by the callers). */
function inexactEdges(a: UhiAxis): "skip" | "ulp" | undefined {
  if (a.type !== "variable") return undefined;
  if (a.circular) return "skip";
  const t = a.writer_info?.["boost-histogram"]?.transform;
  return t === "log" || t === "pow" ? "ulp" : undefined;
}

export function assertAxesMatch(ours: UhiAxis[], theirs: UhiAxis[], label: string): void {
  const key = (a: UhiAxis) =>
    stringifyPyJson({
      ...a,
      writer_info: undefined,
      metadata: undefined,
      ...(inexactEdges(a) ? { edges: undefined } : {}),
    });
  assert.deepEqual(ours.map(key), theirs.map(key), `${label}: axes differ`);
  ours.forEach((a, k) => {
    const b = theirs[k];
    if (a.type === "variable" && b.type === "variable" && inexactEdges(a) === "ulp")
      for (const [j, e] of a.edges.entries())
        assert.ok(
          Math.abs(e - b.edges[j]) <= 4 * Number.EPSILON * Math.abs(e),
          `${label}: edge ${j} ${e} vs ${b.edges[j]}`,
        );
  });
}
