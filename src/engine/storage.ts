// Storages: the per-cell accumulators. Each field is one Float64Array over all cells (C order, flow included),
// so memory per cell is exactly 8 bytes per field: int/double 8, weighted 16, mean 24, weighted_mean 32.
// int counts are held as exact integers in float64 (exact to 2^53 counts per cell).
import { ResourceExhaustedError } from "./errors.ts";
import { STORAGE_KEYS, type StorageKey, type StorageType } from "./uhi-types.ts";

const FIELDS: Record<StorageType, number> = { int: 1, double: 1, weighted: 2, mean: 3, weighted_mean: 4 };

export function bytesPerCell(type: StorageType): number {
  return FIELDS[type] * 8;
}

export function allocate(cells: number, what: string): Float64Array {
  try {
    return new Float64Array(cells);
  } catch (e) {
    throw new ResourceExhaustedError(
      `cannot allocate ${what}: ${cells} cells (${(cells * 8) / 2 ** 30} GiB): ${(e as Error).message}`,
    );
  }
}

export class Storage {
  readonly type: StorageType;
  /** Fields, in order: int/double [value]; weighted [value, variance]; mean [count, mean, M2];
   * weighted_mean [Σw, Σw², mean, M2w]. M2 is the running sum of squared deltas (Welford). */
  fields: Float64Array[];

  constructor(type: StorageType, cells: number) {
    this.type = type;
    this.fields = Array.from({ length: FIELDS[type] }, () => allocate(cells, `${type} storage`));
  }

  get cells(): number {
    return this.fields[0].length;
  }

  get needsSample(): boolean {
    return this.type === "mean" || this.type === "weighted_mean";
  }

  reset(): void {
    for (const f of this.fields) f.fill(0);
  }

  clone(): Storage {
    const s = Object.create(Storage.prototype) as Storage;
    Object.assign(s, { type: this.type, fields: this.fields.map((f) => f.slice()) });
    return s;
  }

  /** Accumulates entries into cells idx[i] (skipping idx < 0), boost's accumulator formulas exactly. */
  fill(idx: Float64Array, n: number, w: Float64Array | undefined, x: Float64Array | undefined): void {
    const f = this.fields;
    switch (this.type) {
      case "int": {
        const c = f[0];
        if (w) {
          // C++ int64 += double: the sum is formed in double, then truncated.
          for (let i = 0; i < n; i++) {
            const j = idx[i];
            if (j >= 0) c[j] = Math.trunc(c[j] + w[i]);
          }
        } else for (let i = 0; i < n; i++) if (idx[i] >= 0) c[idx[i]]++;
        return;
      }
      case "double": {
        const c = f[0];
        if (w) {
          for (let i = 0; i < n; i++) if (idx[i] >= 0) c[idx[i]] += w[i];
        } else for (let i = 0; i < n; i++) if (idx[i] >= 0) c[idx[i]]++;
        return;
      }
      case "weighted": {
        const v = f[0];
        const vv = f[1];
        if (w) {
          for (let i = 0; i < n; i++) {
            const j = idx[i];
            if (j >= 0) {
              const wi = w[i];
              v[j] += wi;
              vv[j] += wi * wi;
            }
          }
        } else
          for (let i = 0; i < n; i++) {
            const j = idx[i];
            if (j >= 0) {
              v[j]++;
              vv[j]++;
            }
          }
        return;
      }
      case "mean": {
        const [cnt, mean, m2] = f;
        for (let i = 0; i < n; i++) {
          const j = idx[i];
          if (j < 0) continue;
          const xi = x![i];
          if (w) {
            const wi = w[i];
            cnt[j] += wi;
            const d = xi - mean[j];
            mean[j] += (wi * d) / cnt[j];
            m2[j] += wi * d * (xi - mean[j]);
          } else {
            cnt[j] += 1;
            const d = xi - mean[j];
            mean[j] += d / cnt[j];
            m2[j] += d * (xi - mean[j]);
          }
        }
        return;
      }
      case "weighted_mean": {
        const [sw, sw2, mean, m2] = f;
        for (let i = 0; i < n; i++) {
          const j = idx[i];
          if (j < 0) continue;
          const xi = x![i];
          const wi = w ? w[i] : 1;
          sw[j] += wi;
          sw2[j] += wi * wi;
          const d = xi - mean[j];
          mean[j] += (wi * d) / sw[j];
          m2[j] += wi * d * (xi - mean[j]);
        }
        return;
      }
    }
  }

  /** this[dst] += other[src], with boost's accumulator merge (parallel-variance formula for means). */
  addCell(dst: number, other: Storage, src: number): void {
    const a = this.fields;
    const b = other.fields;
    switch (this.type) {
      case "int":
      case "double":
        a[0][dst] += b[0][src];
        return;
      case "weighted":
        a[0][dst] += b[0][src];
        a[1][dst] += b[1][src];
        return;
      case "mean": {
        const n2 = b[0][src];
        if (n2 === 0) return;
        const n1 = a[0][dst];
        const mu1 = a[1][dst];
        const mu2 = b[1][src];
        const n = n1 + n2;
        const mu = (n1 * mu1 + n2 * mu2) / n;
        a[2][dst] += b[2][src];
        a[2][dst] += n1 * (mu - mu1) * (mu - mu1);
        a[2][dst] += n2 * (mu - mu2) * (mu - mu2);
        a[0][dst] = n;
        a[1][dst] = mu;
        return;
      }
      case "weighted_mean": {
        const n2 = b[0][src];
        if (n2 === 0) return;
        const n1 = a[0][dst];
        const mu1 = a[2][dst];
        const mu2 = b[2][src];
        const n = n1 + n2;
        const mu = (n1 * mu1 + n2 * mu2) / n;
        a[3][dst] += b[3][src];
        a[3][dst] += n1 * (mu - mu1) * (mu - mu1);
        a[3][dst] += n2 * (mu - mu2) * (mu - mu2);
        a[0][dst] = n;
        a[1][dst] += b[1][src];
        a[2][dst] = mu;
        return;
      }
    }
  }

  /** The UHI data arrays (variances derived from M2 as boost-histogram writes them). */
  toUhiData(): Partial<Record<StorageKey, Float64Array>> {
    const f = this.fields;
    switch (this.type) {
      case "int":
      case "double":
        return { values: f[0].slice() };
      case "weighted":
        return { values: f[0].slice(), variances: f[1].slice() };
      case "mean": {
        const [cnt, mean, m2] = f;
        const variances = new Float64Array(cnt.length);
        for (let i = 0; i < cnt.length; i++) variances[i] = m2[i] / (cnt[i] - 1);
        return { counts: cnt.slice(), values: mean.slice(), variances };
      }
      case "weighted_mean": {
        const [sw, sw2, mean, m2] = f;
        const variances = new Float64Array(sw.length);
        for (let i = 0; i < sw.length; i++) variances[i] = m2[i] / (sw[i] - sw2[i] / sw[i]);
        return {
          sum_of_weights: sw.slice(),
          sum_of_weights_squared: sw2.slice(),
          values: mean.slice(),
          variances,
        };
      }
    }
  }

  /** Loads UHI data arrays; M2 is rebuilt from the stored variance, and set to 0 where the variance is undefined
   * (a mean cell with count == 1, a weighted_mean cell that is empty or holds one effective entry), so that later
   * merges do not spread NaN. boost-histogram keeps NaN there; this is a deliberate difference. Elsewhere a NaN
   * variance is a real NaN M2 (a NaN sample; weighted counts below 1 divide by count - 1 != 0) and stays NaN. */
  loadUhiData(data: Partial<Record<StorageKey, ArrayLike<number>>>): void {
    const get = (k: StorageKey): ArrayLike<number> => data[k]!;
    const f = this.fields;
    switch (this.type) {
      case "int":
      case "double":
      case "weighted":
        STORAGE_KEYS[this.type].forEach((k, i) => {
          f[i].set(get(k));
        });
        return;
      case "mean": {
        f[0].set(get("counts"));
        f[1].set(get("values"));
        const v = get("variances");
        for (let i = 0; i < f[0].length; i++) {
          const m2 = v[i] * (f[0][i] - 1);
          f[2][i] = Number.isNaN(m2) && f[0][i] === 1 ? 0 : m2;
        }
        return;
      }
      case "weighted_mean": {
        f[0].set(get("sum_of_weights"));
        f[1].set(get("sum_of_weights_squared"));
        f[2].set(get("values"));
        const v = get("variances");
        for (let i = 0; i < f[0].length; i++) {
          const denom = f[0][i] - f[1][i] / f[0][i];
          const m2 = v[i] * denom;
          f[3][i] = Number.isNaN(m2) && (f[0][i] === 0 || denom === 0) ? 0 : m2;
        }
        return;
      }
    }
  }

  /** Moves every cell to a new layout after axes grew: `moves[k][p]` is where position p of axis k goes. */
  relayout(oldExt: readonly number[], newExt: readonly number[], moves: readonly Int32Array[]): void {
    const cells = newExt.reduce((a, b) => a * b, 1);
    this.fields = this.fields.map((old) => {
      const next = allocate(cells, `${this.type} storage`);
      forEachCell(oldExt, (src, pos) => {
        let dst = 0;
        for (let k = 0; k < pos.length; k++) dst = dst * newExt[k] + moves[k][pos[k]];
        next[dst] = old[src];
      });
      return next;
    });
  }
}

/** Visits every cell of a C-order array with its flat index and per-axis positions (pos is reused). */
export function forEachCell(ext: readonly number[], fn: (flat: number, pos: Int32Array) => void): void {
  const d = ext.length;
  const total = ext.reduce((a, b) => a * b, 1);
  const pos = new Int32Array(d);
  for (let flat = 0; flat < total; flat++) {
    fn(flat, pos);
    for (let k = d - 1; k >= 0; k--) {
      if (++pos[k] < ext[k]) break;
      pos[k] = 0;
    }
  }
}
