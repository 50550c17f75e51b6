// Simulation mode (just-bin-it.md §5.5): fabricated event messages matching each histogram's config.
import type { HistogramSpec } from "./config-commands.ts";

export interface FakeEvents {
  tof: Int32Array;
  det: Int32Array;
}

/** A standard normal draw (Box-Muller). */
function gauss(): number {
  let u = 0;
  while (u === 0) u = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

/** generate_fake_data: centre (max-min)//2 and sigma centre//5, the centre not offset by min (a quirk kept). */
export function fakeData(range: [number, number], n: number): Int32Array {
  const centre = Math.floor((range[1] - range[0]) / 2);
  const sigma = Math.floor(centre / 5);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.trunc(centre + sigma * gauss());
  return out;
}

/** One fabricated message for a histogram, as SimulatedEventSource makes it. */
export function simulate(spec: HistogramSpec, n = 1000): FakeEvents {
  if (spec.type === "hist1d" || spec.type === "hist2d") {
    return { tof: fakeData(spec.tofRange, n), det: fakeData(spec.detRange ?? [1, 512], n) };
  }
  const w = spec.width;
  // roihist uses the value of the last left edge as its height: just-bin-it's bug, bounded here.
  const h = spec.type === "dethist" ? spec.height : Math.min(spec.leftEdges.at(-1) ?? 1, 1000);
  const det = new Int32Array(h * n);
  for (let row = 0, k = 0; row < h; row++)
    for (let i = 0; i < n; i++, k++) det[k] = Math.trunc(row * w + w / 2 + (w / 10) * gauss());
  return { tof: new Int32Array(0), det };
}
