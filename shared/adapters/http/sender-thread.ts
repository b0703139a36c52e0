/**
 * The thread of ThreadedHttpSender: an UndiciHttpSender with the policy it is given (its 2xx
 * answers journaled when given a journal directory, see JournaledHttpSender), answering each
 * batch of requests as they finish (the results of one turn of its event loop in one message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TargetPolicy } from '../../domain/targets.ts';
import type { OutboundRequest, SendResult } from '../../usecases/ports.ts';
import { AnswerJournal } from '../local/answer-journal.ts';
import { JournaledHttpSender } from '../local/journaled-http-sender.ts';
import { UndiciHttpSender } from './undici-http-sender.ts';

export interface SenderThreadData {
  readonly policy: TargetPolicy;
  /** Where the 2xx answers are journaled (and an earlier process's read from). */
  readonly journalDir?: string;
}
export interface SenderThreadRequest {
  readonly id: number;
  readonly request: OutboundRequest;
}
export interface SenderThreadReply {
  readonly id: number;
  readonly result: SendResult;
}
/** What the thread posts: the answers of one turn, or once, `'warm'` when its warm-up is done. */
export type SenderThreadMessage = SenderThreadReply[] | 'warm';

/**
 * Requests a turn of the event loop starts; the rest of a batch waits for the next turn, after
 * the answers that came meanwhile have been read. A turn that writes a whole batch (up to 20
 * requests, each write a loopback send of about 50 us) reads no answer until it is done, and an
 * answer unread at a kill is not journaled: the restart sends that attempt again. `npm run
 * chaos`, duplicates per 30,000 deliveries: 1 to 19 (a mean of 9 over 8 runs) against 2 to 31
 * (16 over 9) with a whole batch a turn; 2 to 26 (12 over 6) with one request a turn.
 */
const REQUESTS_PER_TURN = 4;

const port = parentPort;
if (port) {
  const data = workerData as SenderThreadData;
  const http = new UndiciHttpSender({ policy: data.policy });
  const sender = data.journalDir === undefined ? http : new JournaledHttpSender(http, new AnswerJournal(data.journalDir));
  let done: SenderThreadReply[] = [];
  const reply = () => {
    const batch: SenderThreadMessage = done;
    done = [];
    port.postMessage(batch);
  };
  // Requests that come while the client warms up wait for it: they would otherwise pay for it within their deadline.
  const warm = http.warmUp().catch(() => undefined);
  // By then the thread has loaded Node's modules it sends with (see ThreadedHttpSender.prestart).
  void warm.then(() => port.postMessage('warm' satisfies SenderThreadMessage));
  port.on('message', (batch: SenderThreadRequest[]) => void warm.then(() => send(batch)));
  const send = (batch: SenderThreadRequest[], from = 0) => {
    const end = Math.min(batch.length, from + REQUESTS_PER_TURN);
    for (let i = from; i < end; i++) {
      const { id, request } = batch[i]!;
      void sender.post(request).then(undefined, (error: unknown): SendResult => ({ kind: 'error', error: `the sender failed: ${String(error)}`, durationMs: 0 })).then((result) => {
        if (done.push({ id, result }) === 1) setImmediate(reply);
      });
    }
    if (end < batch.length) setImmediate(() => send(batch, end));
  };
}
