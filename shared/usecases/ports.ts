/**
 * Ports used by more than one use case. Ports used by one use case are declared in its own file.
 */

/** Reads named secret strings (the dispatcher's signing secrets, the admin key). */
export interface SecretReader {
  get(name: string): Promise<string | undefined>;
}

/** Named secret strings: Secrets Manager on AWS, 0600 files on one machine. */
export interface SecretStore extends SecretReader {
  put(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** The outcome of one HTTP POST to a receiver. Failures to connect are values, not exceptions. */
export type SendResult =
  | {
      readonly kind: 'response';
      readonly statusCode: number;
      readonly headers: Readonly<Record<string, string | undefined>>;
      /** The first bytes of the answer, for the delivery log. */
      readonly bodyPrefix: string;
      readonly durationMs: number;
    }
  | { readonly kind: 'error'; readonly error: string; readonly durationMs: number };

export interface OutboundRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** How much of the answer to keep in `bodyPrefix` (default 1024 characters, for the log). */
  readonly keepChars?: number;
  /**
   * The delivery attempt this POST makes (`<delivery_id>#<attempt>`, the log entry's key), when
   * it makes one: a sender that journals answers (the one-machine runtime's) gives a 2xx it had
   * already received for it instead of sending again, after a crash kept its outcome from being
   * recorded. Not sent.
   */
  readonly attemptKey?: string;
}

/** Told an answer's final status, and the time to it, as soon as it comes, before the body. */
export type StatusListener = (statusCode: number, durationMs: number) => void;

/** POSTs to receivers; never follows redirects. */
export interface HttpSender {
  /** `onStatus`: called by a sender that can tell the status before the answer ends (not every sender does). */
  post(request: OutboundRequest, onStatus?: StatusListener): Promise<SendResult>;
}

export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** A plain-text email to one recipient. */
export interface Email {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Sends email: SES on AWS, RFC 5322 files in the outbox on one machine. */
export interface Mailer {
  send(email: Email): Promise<void>;
}
