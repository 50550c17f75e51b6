// Prometheus text exposition format (version 0.0.4), written by hand: samples grouped by metric name, one HELP
// and TYPE line each, label values escaped.
import type { MetricSample } from "../catalog/index.ts";

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

export function renderMetrics(samples: readonly MetricSample[]): string {
  const byName = new Map<string, MetricSample[]>();
  for (const s of samples) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  const lines: string[] = [];
  for (const [name, list] of byName) {
    lines.push(`# HELP ${name} ${list[0].help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${name} ${list[0].type}`);
    // Samples with equal labels (two sources reporting the same door) are added up.
    const merged = new Map<string, number>();
    for (const s of list) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      merged.set(labels, (merged.get(labels) ?? 0) + s.value);
    }
    for (const [labels, v] of merged) lines.push(`${name}${labels ? `{${labels}}` : ""} ${formatValue(v)}`);
  }
  return `${lines.join("\n")}\n`;
}
