/**
 * Evaluation codes, reasons and the few error classes callers may catch.
 * @module
 */

/** Why a flag evaluated as it did; the same strings as Eppo's `flagEvaluationCode`. */
export type FlagEvaluationCode =
  | 'MATCH'
  | 'FLAG_UNRECOGNIZED_OR_DISABLED'
  | 'TYPE_MISMATCH'
  | 'ASSIGNMENT_ERROR'
  | 'DEFAULT_ALLOCATION_NULL'
  | 'NO_ACTIONS_SUPPLIED_FOR_BANDIT'
  | 'BANDIT_ERROR';

/** Why one allocation did or did not serve the subject. */
export type AllocationEvaluationCode =
  | 'UNEVALUATED'
  | 'MATCH'
  | 'BEFORE_START_TIME'
  | 'TRAFFIC_EXPOSURE_MISS'
  | 'AFTER_END_TIME'
  | 'FAILING_RULE';

/** The five flag value types of UFC. */
export type VariationType = 'STRING' | 'INTEGER' | 'NUMERIC' | 'BOOLEAN' | 'JSON';

/** The variation types, in the order UFC documents them. */
export const VARIATION_TYPES: readonly VariationType[] = ['STRING', 'INTEGER', 'NUMERIC', 'BOOLEAN', 'JSON'];

/**
 * A configuration document that cannot be used at all (not JSON, or not a UFC config).
 * The message names the JSON path of the first problem, e.g. `$.flags["a"].allocations[0].splits`.
 */
export class ConfigError extends Error {
  /** JSON path of the offending value, `$` for the document itself. */
  readonly path: string;
  /** Creates the error with its message and the JSON path of the offending value. */
  constructor(message: string, path: string) {
    super(message);
    this.name = 'ConfigError';
    this.path = path;
  }
}

/**
 * Thrown inside evaluation and turned into ASSIGNMENT_ERROR with the message `Assignment Error: <message>`;
 * it never reaches a getter's caller.
 */
export class EvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationError';
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent of the path is not a directory',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many symbolic links',
};

/**
 * An error in words, for messages: `no such file or directory (ENOENT)` for a file-system code, else the message
 * without a leading `saltshard: ` (so a message that quotes it is not prefixed twice).
 */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && Object.hasOwn(REASONS, code)) return `${REASONS[code]} (${code})`;
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^(saltshard: )+/, '');
}
