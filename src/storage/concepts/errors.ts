/**
 * Named errors of the concept library, in the gallery's style (a stable string `code` so they cross the
 * worker boundary as `{name, code, message}`), each with a message that says what a person can do.
 * Running out of space is not here: writes raise the project's StorageQuotaError (../errors.ts).
 */

export type ConceptFileErrorCode =
  /** The file ends early (an interrupted download or copy). */
  | 'truncated'
  /** A safetensors file whose header, tensors or concept metadata are damaged or inconsistent. */
  | 'corrupt'
  /** A valid file that is not a CIDM Studio concept (e.g. a plain LoRA or an embedding). */
  | 'not-a-concept'
  /** A concept written by a newer studio, in a format version this one cannot read. */
  | 'newer-format';

const HINTS: Record<ConceptFileErrorCode, string> = {
  truncated: 'The file is incomplete; export or download it again.',
  corrupt: 'The file is damaged; export it again from the studio that made it.',
  'not-a-concept': 'Import concepts exported by CIDM Studio (.cidm.safetensors); plain LoRA and embedding files are not concepts.',
  'newer-format': 'Update this studio to import it.',
};

export class ConceptFileError extends Error {
  override readonly name = 'ConceptFileError';
  constructor(
    readonly code: ConceptFileErrorCode,
    /** The file's name as the person picked it. */
    readonly file: string,
    /** What exactly is wrong (the file name is added to the message). */
    readonly detail: string,
    /** The tensor or metadata key concerned, when there is one. */
    readonly key?: string,
  ) {
    super(`${file}${key !== undefined ? `, "${key}"` : ''}: ${detail}. ${HINTS[code]}`);
  }
}

/** A stored concept record that cannot be read (unknown shape, a newer studio's schema, damaged tensors). */
export class ConceptRecordError extends Error {
  override readonly name = 'ConceptRecordError';
  readonly code = 'bad-concept-record';
}

/** A stored training checkpoint that cannot be read. */
export class CheckpointRecordError extends Error {
  override readonly name = 'CheckpointRecordError';
  readonly code = 'bad-checkpoint-record';
}

export class ConceptNotFoundError extends Error {
  override readonly name = 'ConceptNotFoundError';
  readonly code = 'concept-not-found';
  constructor(readonly id: string) {
    super(`The concept "${id}" is not in the library (it may have been deleted in another tab). Reload the library.`);
  }
}
