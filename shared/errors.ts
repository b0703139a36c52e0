/**
 * Errors a caller can act on. Each carries the HTTP status it maps to at the API edge; the
 * message is a sentence meant for the API user, `details` lists field problems. Anything that is
 * not one of these is an internal fault and becomes a generic 500 (see http/api-handler.ts).
 */
export class HooklineError extends Error {
  readonly statusCode: number;
  readonly details?: readonly unknown[];
  constructor(statusCode: number, message: string, options?: { details?: readonly unknown[]; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = statusCode;
    if (options?.details) this.details = options.details;
  }
}

export class ValidationError extends HooklineError {
  constructor(message: string, details?: readonly unknown[]) {
    super(400, message, details ? { details } : undefined);
  }
}

export class NotSupportedError extends HooklineError {
  constructor(what: string) {
    super(400, `${what} is not supported yet`);
  }
}

export class UnauthorizedError extends HooklineError {
  constructor(message = 'Missing or invalid API key') {
    super(401, message);
  }
}

export class NotFoundError extends HooklineError {
  constructor(message: string) {
    super(404, message);
  }
}

export class PayloadTooLargeError extends HooklineError {
  constructor(limitBytes: number) {
    super(413, `Request body is larger than ${limitBytes} bytes`);
  }
}

export class RateLimitedError extends HooklineError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number, message = `Too many requests; retry after ${retryAfterSeconds} s`) {
    super(429, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class ForbiddenError extends HooklineError {
  constructor(message: string) {
    super(403, message);
  }
}
