// A refusal of one document's update (or of opening it): the error kind for people and logs,
// and the code that tells the SDK what to do next (see RefusalCodes in shared-schema).
import { OutpostError, encodeRefusal, type ErrorKind, type RefusalCode } from '@outpost/shared-schema';

export class Refused extends OutpostError {
  readonly code: RefusalCode;
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, code: RefusalCode, message: string, retryAfterMs?: number) {
    super(kind, message, retryAfterMs === undefined ? undefined : { retryAfterMs });
    this.name = 'Refused';
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** The close reason the client receives. */
  get reason(): string {
    return encodeRefusal({ kind: this.kind, code: this.code, message: this.message, ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }) });
  }
}

/** A broken rule: the SDK quarantines its copy and carries over what is still valid. */
export function ruleBroken(message: string): Refused {
  return new Refused('forbidden', 'ruleBroken', message);
}

/** Something passing (overload, storage trouble): sync again after `retryAfterMs`. */
export function retryLater(kind: 'rateLimited' | 'internal', message: string, retryAfterMs: number): Refused {
  return new Refused(kind, 'retry', message, retryAfterMs);
}

/** Reads any error as a refusal: our own as they are, anything else as an internal fault to retry. */
export function asRefusal(error: unknown): Refused {
  if (error instanceof Refused) return error;
  if (error instanceof OutpostError) {
    if (error.kind === 'rateLimited') return retryLater('rateLimited', error.message, Number(error.details?.retryAfterMs ?? 1_000));
    if (error.kind === 'internal') return retryLater('internal', error.message, 1_000);
    return new Refused(error.kind, error.kind === 'unauthorized' ? 'signedOut' : 'ruleBroken', error.message);
  }
  return retryLater('internal', 'the server could not store this change; it will be sent again', 1_000);
}
