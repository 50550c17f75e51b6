// Shared by the files-*.test.ts: randomized histograms made and filled by Python (hist/boost-histogram), handed
// to TS as UHI IR, and the Python check that a file written from that IR loads back to the same histogram.
import type { StorageKey, UhiHistogram } from "../../src/engine/uhi-types.ts";
import { runPython } from "../support/python.ts";

/** Python: builds the random histograms, pickles the originals to argv[1], prints [{name, ir}] (arrays base64). */
const MAKE = String.raw`
import base64, json, pickle, sys
import numpy as np
import hist, hist.serialization
rng = np.random.default_rng(int(sys.argv[2]))

def axes_pool():
    return [
        lambda n: hist.axis.Regular(int(rng.integers(1, 6)), -2.0, 3.0, name=n, label=n.upper()),
        lambda n: hist.axis.Regular(4, 0.0, 1.0, underflow=False, overflow=False, name=n),
        lambda n: hist.axis.Regular(3, 0.0, 6.0, circular=True, name=n),
        lambda n: hist.axis.Regular(3, 1.0, 100.0, transform=hist.axis.transform.log, name=n),
        lambda n: hist.axis.Regular(2, -1.0, 1.0, growth=True, name=n),
        lambda n: hist.axis.Variable([-3.0, -0.5, 0.1, 0.7, 4.0], name=n, label="v [GeV]"),
        lambda n: hist.axis.Variable([0.0, 1.5, 2.0], underflow=False, name=n),
        lambda n: hist.axis.Integer(-1, 3, name=n),
        lambda n: hist.axis.Integer(0, 4, underflow=False, overflow=False, name=n),
        lambda n: hist.axis.StrCategory(["a", "bb", "é"], name=n),
        lambda n: hist.axis.StrCategory(["a"], growth=True, name=n),
        lambda n: hist.axis.StrCategory([], growth=True, name=n),
        lambda n: hist.axis.IntCategory([3, -7, 11], name=n),
        lambda n: hist.axis.IntCategory([1], growth=True, name=n),
        lambda n: hist.axis.Boolean(name=n),
    ]

def sample_for(ax, k):
    if isinstance(ax, hist.axis.StrCategory):
        return rng.choice(["a", "bb", "é", "zz", "q"], size=k)
    if isinstance(ax, hist.axis.IntCategory):
        return rng.choice([3, -7, 11, 1, 5], size=k)
    if isinstance(ax, hist.axis.Boolean):
        return rng.integers(0, 2, size=k).astype(bool)
    if isinstance(ax, hist.axis.Integer):
        return rng.integers(-3, 6, size=k)
    return rng.normal(0.5, 2.5, size=k) * (30 if getattr(ax, "transform", None) is not None else 1)

storages = {"int": hist.storage.Int64, "double": hist.storage.Double, "weighted": hist.storage.Weight,
            "mean": hist.storage.Mean, "weighted_mean": hist.storage.WeightedMean}
cases, originals = [], []
pool = axes_pool()
for sname, st in storages.items():
    for rep in range(int(sys.argv[3])):
        # First every axis type alone, then random combinations of up to 3 axes.
        picks = [rep] if rep < len(pool) else rng.choice(len(pool), size=int(rng.integers(2, 4)), replace=False)
        axes = [pool[int(i)](f"ax{j}") for j, i in enumerate(picks)]
        h = hist.Hist(*axes, storage=st(), name=f"h_{sname}_{rep}", label="a histogram")
        k = int(rng.integers(0, 400))
        args = {a.name: sample_for(a, k) for a in axes}
        kw = {}
        if sname in ("weighted", "weighted_mean", "double"):
            kw["weight"] = rng.uniform(0.1, 3.0, size=k)
        if sname in ("mean", "weighted_mean"):
            kw["sample"] = rng.normal(10, 3, size=k)
        h.fill(**args, **kw)
        if rep == 1:
            h.fill(**{a.name: sample_for(a, 1) for a in axes}, **{x: v[:1] for x, v in kw.items()})
        ir = hist.serialization.to_uhi(h)
        data = {key: base64.b64encode(np.ascontiguousarray(v, dtype="<f8").tobytes()).decode()
                for key, v in ir["storage"].items() if key != "type"}
        ir["storage"] = {"type": ir["storage"]["type"], "data": data}
        for ax in ir["axes"]:
            if "edges" in ax:
                ax["edges"] = [float(e) for e in ax["edges"]]
            if "categories" in ax:
                ax["categories"] = [c if isinstance(c, str) else int(c) for c in ax["categories"]]
        cases.append({"name": f"{sname} #{rep}: {h.axes.name} {[type(a).__name__ for a in axes]}", "ir": ir})
        originals.append(h)
with open(sys.argv[1], "wb") as f:
    pickle.dump(originals, f)
print(json.dumps(cases))
`;

interface CaseJson {
  name: string;
  ir: Omit<UhiHistogram, "storage"> & {
    storage: { type: UhiHistogram["storage"]["type"]; data: Record<string, string> };
  };
}

export interface FileCase {
  name: string;
  ir: UhiHistogram;
}

/** Makes `perStorage` random histograms of every storage type; originals are pickled to `originalsPath`. */
export function makeCases(originalsPath: string, seed: number, perStorage: number): FileCase[] {
  const raw = JSON.parse(
    runPython(MAKE, "", [originalsPath, String(seed), String(perStorage)]),
  ) as CaseJson[];
  return raw.map(({ name, ir }) => {
    const data: Partial<Record<StorageKey, Float64Array>> = {};
    for (const [k, b64] of Object.entries(ir.storage.data)) {
      const bytes = Buffer.from(b64, "base64");
      data[k as StorageKey] = new Float64Array(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      );
    }
    return { name, ir: { ...ir, storage: { type: ir.storage.type, data } } };
  });
}

/**
 * Python: loads argv[1] (the originals) and each written file via the `load` snippet (which defines
 * `load(path)`), and prints one problem string per mismatch. Reference is hist's own from_uhi of the same IR.
 */
export function checkFiles(originalsPath: string, files: string[], load: string): string[] {
  const script = String.raw`
import json, pickle, sys
import numpy as np
import hist, hist.serialization
${load}
originals = pickle.load(open(sys.argv[1], "rb"))
problems = []
for orig, path in zip(originals, sys.argv[2:], strict=True):
    name = orig.name
    try:
        got = load(path)
    except Exception as e:
        problems.append(f"{name}: load failed: {e!r}")
        continue
    ref = hist.serialization.from_uhi(hist.serialization.to_uhi(orig))
    if type(got) is not hist.Hist:
        problems.append(f"{name}: loaded a {type(got)}")
        continue
    if got.axes != orig.axes:
        problems.append(f"{name}: axes differ: {got.axes!r} vs {orig.axes!r}")
    for a, b in zip(got.axes, orig.axes):
        if type(a) is not type(b) or a.traits != b.traits or a.metadata != b.metadata:
            problems.append(f"{name}: axis {a!r} vs {b!r}")
    if got.storage_type is not orig.storage_type:
        problems.append(f"{name}: storage {got.storage_type} vs {orig.storage_type}")
    if (got.name, got.label) != (orig.name, orig.label):
        problems.append(f"{name}: name/label {(got.name, got.label)}")
    gv, rv, ov = got.view(flow=True), ref.view(flow=True), orig.view(flow=True)
    if gv.dtype != rv.dtype or gv.shape != rv.shape or gv.tobytes() != rv.tobytes():
        problems.append(f"{name}: view differs from hist's own from_uhi")
    # Mean storages keep a derived variance (NaN for single entries), so their == is never true even for two
    # copies of one reconstruction; for those the exact view bytes above are the check.
    if (got == ref) != (ref == hist.serialization.from_uhi(hist.serialization.to_uhi(orig))):
        problems.append(f"{name}: == against from_uhi differs")
    if orig.storage_type not in (hist.storage.Mean, hist.storage.WeightedMean):
        if not (got == orig):
            problems.append(f"{name}: != original")
        if gv.tobytes() != ov.tobytes():
            problems.append(f"{name}: view differs from the original")
    else:
        for f in ov.dtype.names:
            if f in ("variance", "_sum_of_deltas_squared", "_sum_of_weighted_deltas_squared"):
                continue
            if not np.array_equal(gv[f], ov[f]):
                problems.append(f"{name}: field {f} differs from the original")
print(json.dumps(problems))
`;
  return JSON.parse(runPython(script, "", [originalsPath, ...files])) as string[];
}
