// Typed errors: each door maps `code` to its own status (gRPC status, ERR response, HTTP status).

export type HistErrorCode = "INVALID_ARGUMENT" | "RESOURCE_EXHAUSTED" | "NOT_FOUND";

export class HistError extends Error {
  readonly code: HistErrorCode;
  constructor(code: HistErrorCode, message: string) {
    super(message);
    this.name = "HistError";
    this.code = code;
  }
}

/** Bad input: wrong types, lengths, names or values. The histogram is unchanged. */
export class InvalidArgumentError extends HistError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
    this.name = "InvalidArgumentError";
  }
}

/** A histogram (or its growth) would exceed the configured bin or memory limits. */
export class ResourceExhaustedError extends HistError {
  constructor(message: string) {
    super("RESOURCE_EXHAUSTED", message);
    this.name = "ResourceExhaustedError";
  }
}
