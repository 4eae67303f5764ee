package dev.tandem.api;

/** The three kinds of failure Tandem distinguishes. */
public enum ErrorKind {
  /** Try again later: 429, 5xx, I/O. May carry a retry-after. */
  RETRIABLE,
  /** Retrying will not help until someone changes something: configuration, authentication. */
  PERMANENT,
  /** One record is bad; it goes to the error log and the job goes on. */
  DATA
}
