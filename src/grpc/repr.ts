// hist.Hist's repr, as the seed's server logs and returns it: the axes, the storage, and
// "# Sum: <accumulator>" with " (<accumulator> with flow)" when the flow bins hold something.
import { type Histogram, sum } from "../engine/index.ts";

const STORAGE: Record<string, string> = {
  int: "Int64()",
  double: "Double()",
  weighted: "Weight()",
  mean: "Mean()",
  weighted_mean: "WeightedMean()",
};

/** Python's repr of a float: shortest round trip, ".0" on integers, exponent outside [1e-4, 1e16). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e16 || a < 1e-4)) {
    const [m, e] = x.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (Number.isInteger(x)) return Object.is(x, -0) ? "-0.0" : `${x}.0`;
  return String(x);
}

/** C's "%g" (6 significant digits), which boost-histogram's accumulator reprs use. */
export function fmtG(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split("e");
    const mant = m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  const s = x.toFixed(Math.max(0, 5 - exp));
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/** Cells that are not flow cells, as a mask over the flat C-order storage. */
function innerMask(h: Histogram): Uint8Array {
  const ext = h.extents;
  const mask = new Uint8Array(h.cells);
  const pos = new Array<number>(ext.length).fill(0);
  for (let i = 0; i < mask.length; i++) {
    let inner = 1;
    for (let k = 0; k < ext.length; k++) {
      const a = h.axes[k];
      const b = pos[k] - (a.underflow ? 1 : 0);
      if (b < 0 || b >= a.size) inner = 0;
    }
    mask[i] = inner;
    for (let k = ext.length - 1; k >= 0; k--) {
      if (++pos[k] < ext[k]) break;
      pos[k] = 0;
    }
  }
  return mask;
}

function accumulatorRepr(h: Histogram, flow: boolean, mask: Uint8Array): string {
  const f = h.storage.fields;
  const take = (i: number) => flow || mask[i] === 1;
  switch (h.storageType) {
    case "int":
    case "double":
      return pyFloatRepr(sum(h, flow));
    case "weighted": {
      let v = 0;
      let vv = 0;
      for (let i = 0; i < f[0].length; i++)
        if (take(i)) {
          v += f[0][i];
          vv += f[1][i];
        }
      return `WeightedSum(value=${fmtG(v)}, variance=${fmtG(vv)})`;
    }
    case "mean": {
      let n = 0;
      let s = 0;
      for (let i = 0; i < f[0].length; i++)
        if (take(i)) {
          n += f[0][i];
          s += f[0][i] * f[1][i];
        }
      const mean = n === 0 ? 0 : s / n;
      let m2 = 0;
      for (let i = 0; i < f[0].length; i++)
        if (take(i) && f[0][i] > 0) m2 += f[2][i] + f[0][i] * (f[1][i] - mean) ** 2;
      const variance = n > 1 ? m2 / (n - 1) : Number.NaN;
      return `Mean(count=${fmtG(n)}, value=${fmtG(mean)}, variance=${fmtG(variance)})`;
    }
    case "weighted_mean": {
      let sw = 0;
      let sw2 = 0;
      let s = 0;
      for (let i = 0; i < f[0].length; i++)
        if (take(i)) {
          sw += f[0][i];
          sw2 += f[1][i];
          s += f[0][i] * f[2][i];
        }
      const mean = sw === 0 ? 0 : s / sw;
      let m2 = 0;
      for (let i = 0; i < f[0].length; i++)
        if (take(i) && f[0][i] !== 0) m2 += f[3][i] + f[0][i] * (f[2][i] - mean) ** 2;
      const den = sw - sw2 / sw;
      const variance = sw * sw > sw2 ? m2 / den : Number.NaN;
      return `WeightedMean(sum_of_weights=${fmtG(sw)}, sum_of_weights_squared=${fmtG(sw2)}, value=${fmtG(mean)}, variance=${fmtG(variance)})`;
    }
  }
}

/** `repr(hist.Hist)` of the histogram, with the "# Sum:" suffix. */
export function histRepr(h: Histogram): string {
  const storage = `storage=${STORAGE[h.storageType]}`;
  const head =
    h.rank === 1
      ? `Hist(${h.axes[0].repr()}, ${storage})`
      : `Hist(\n${h.axes.map((a) => `  ${a.repr()},`).join("\n")}\n  ${storage})`;
  const mask = innerMask(h);
  const inner = accumulatorRepr(h, false, mask);
  const all = accumulatorRepr(h, true, mask);
  return `${head} # Sum: ${inner}${all === inner ? "" : ` (${all} with flow)`}`;
}
