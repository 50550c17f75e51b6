// `histd kafka` / `just-bin-it`: the drop-in service.

import type { Catalog } from "../catalog/index.ts";
import { tuneGcForKafka } from "./gc-tuning.ts";
import { helpText, parseServiceOptions, serviceSpecs, UsageError } from "./options.ts";
import { Service } from "./service.ts";

export async function runKafka(argv: string[], prog = "histd kafka", catalog?: Catalog): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    console.log(helpText(prog, serviceSpecs));
    return 0;
  }
  let opts: ReturnType<typeof parseServiceOptions>;
  try {
    opts = parseServiceOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${prog}: error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  tuneGcForKafka();
  const service = new Service(opts, undefined, { catalog });
  let done: (code: number) => void = () => {};
  const finished = new Promise<number>((r) => {
    done = r;
  });
  if (opts.oneShotPlot) {
    const { renderHistogram } = await import("./viewer.ts");
    service.noOutput = true;
    service.onPublish = (view, info) => {
      let sum = 0;
      for (const v of view.data) sum += v;
      if (sum > 0) {
        renderHistogram(view, info, { png: "histd-one-shot.png" });
        done(0);
      }
    };
  }
  const stop = () => done(0);
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await service.start();
  const code = await finished;
  await service.close();
  return code;
}
