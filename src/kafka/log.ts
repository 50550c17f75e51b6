// just-bin-it's logging: `-l` 1..5 = debug..critical (level × 10; out of range → info), lines formatted as
// "%(asctime)s - %(name)s - %(levelname)s - %(message)s" on stderr.
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warning(msg: string): void;
  error(msg: string): void;
  critical(msg: string): void;
}

const names = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;

function asctime(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`;
}

/** `level` is just-bin-it's -l value (1 = debug ... 5 = critical). */
export function createLogger(
  level = 3,
  name = "root",
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const min = Number.isInteger(level) && level >= 1 && level <= 5 ? level : 2;
  const at = (lvl: number) => (msg: string) => {
    if (lvl >= min) write(`${asctime()} - ${name} - ${names[lvl - 1]} - ${msg}\n`);
  };
  return { debug: at(1), info: at(2), warning: at(3), error: at(4), critical: at(5) };
}

export const silentLogger: Logger = { debug() {}, info() {}, warning() {}, error() {}, critical() {} };
