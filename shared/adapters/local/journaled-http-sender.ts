import type { HttpSender, OutboundRequest, SendResult } from '../../usecases/ports.ts';
import { ANSWER_REPLAY_MS, type AnswerJournal, type JournaledAnswer } from './answer-journal.ts';

/**
 * One machine: a sender that journals every 2xx answer to a delivery attempt (AnswerJournal),
 * and gives a claim of an attempt the earlier process had already been answered for that answer
 * instead of POSTing again: "a claim found at start-up with its result already recorded is
 * completed, not re-sent", where the record is the journal rather than the database. The answer
 * given has the status and the duration (to the status, when the sender told it early), no
 * headers or body. A POST without an attempt key (a test event, an OAuth2 token request) is
 * neither journaled nor replayed.
 */
export class JournaledHttpSender implements HttpSender {
  private readonly sender: HttpSender;
  private readonly journal: AnswerJournal;
  private readonly earlier: Map<string, JournaledAnswer>;

  constructor(sender: HttpSender, journal: AnswerJournal) {
    this.sender = sender;
    this.journal = journal;
    this.earlier = journal.takeOver();
    if (this.earlier.size > 0) setTimeout(() => this.earlier.clear(), ANSWER_REPLAY_MS).unref();
  }

  async post(request: OutboundRequest): Promise<SendResult> {
    const key = request.attemptKey;
    const answered = key === undefined ? undefined : this.earlier.get(key);
    if (key !== undefined && answered) {
      this.earlier.delete(key);
      return { kind: 'response', statusCode: answered.statusCode, headers: {}, bodyPrefix: '', durationMs: answered.durationMs };
    }
    if (key === undefined) return this.sender.post(request);
    // Kept as soon as the status is known: a receiver that sent a 2xx and then a slow body has
    // answered, and a kill before the body ends must not send the attempt again (the chaos run's
    // slow bodies, up to 300 ms each, were most of its duplicates).
    let journaled = false;
    const result = await this.sender.post(request, (statusCode, durationMs) => {
      if (!is2xx(statusCode)) return;
      this.journal.record(key, { statusCode, durationMs });
      journaled = true;
    });
    // A sender that does not tell the status early (NodeHttpSender): kept at the end.
    if (!journaled && result.kind === 'response' && is2xx(result.statusCode)) {
      this.journal.record(key, { statusCode: result.statusCode, durationMs: result.durationMs });
    }
    return result;
  }
}

const is2xx = (statusCode: number): boolean => statusCode >= 200 && statusCode < 300;
