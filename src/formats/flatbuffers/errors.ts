/**
 * Thrown for any message histd cannot decode (or refuses to encode): wrong or missing schema id,
 * truncated buffers, offsets that point outside the message, invalid UTF-8, unknown union members,
 * values out of a field's range. Consumers catch this one class to skip a bad Kafka record.
 */
export class FormatError extends Error {
  override name = "FormatError";
}
