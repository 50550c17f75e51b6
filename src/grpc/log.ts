// Log lines in Python logging's default format (`LEVEL:logger:message` on stderr), as the seed's server writes.
export type Level = "INFO" | "WARNING" | "ERROR";

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function pythonLogger(
  name: string,
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const emit = (level: Level, msg: string) => write(`${level}:${name}:${msg}\n`);
  return {
    info: (m) => emit("INFO", m),
    warn: (m) => emit("WARNING", m),
    error: (m) => emit("ERROR", m),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
