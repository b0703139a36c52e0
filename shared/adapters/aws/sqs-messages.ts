/**
 * What SQS takes, without the SDK: the sizes the stack sets its queues to and the queue adapters
 * check, and which the one-machine runtime's queue holds events to as well.
 */

/** The largest message, and the largest SendMessageBatch, SQS takes (the stack sets its queues to it). */
export const MAX_SQS_MESSAGE_BYTES = 1_048_576;

/**
 * SQS refuses U+FFFE and U+FFFF (JSON.stringify already escapes lone surrogates and control
 * characters), and the local stand-in also refuses characters beyond U+FFFF (emoji): those go as
 * JSON \u escapes. Everything else (accents, CJK, ...) goes as it is, so non-ASCII text costs its
 * UTF-8 bytes, not six bytes a character (a 250 KB event of CJK text once became 500 KB).
 */
export const sqsSafeJson = (json: string): string =>
  json.replace(/[\ufffe\uffff]|[\ud800-\udbff][\udc00-\udfff]/g, (c) =>
    // By UTF-16 unit: an emoji is a surrogate pair, two escapes.
    Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );

/** The bytes SQS counts for a body: its UTF-8 size once made safe. */
export const sqsMessageBytes = (json: string): number => Buffer.byteLength(sqsSafeJson(json), 'utf8');
