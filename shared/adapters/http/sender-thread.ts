/**
 * The thread of ThreadedHttpSender: a NodeHttpSender with the policy it is given, answering
 * each batch of requests as they finish (the results of one turn of its event loop in one message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TargetPolicy } from '../../domain/targets.ts';
import type { OutboundRequest, SendResult } from '../../usecases/ports.ts';
import { NodeHttpSender } from './node-http-sender.ts';

export interface SenderThreadData {
  readonly policy: TargetPolicy;
}
export interface SenderThreadRequest {
  readonly id: number;
  readonly request: OutboundRequest;
}
export interface SenderThreadReply {
  readonly id: number;
  readonly result: SendResult;
}

const port = parentPort;
if (port) {
  const sender = new NodeHttpSender({ policy: (workerData as SenderThreadData).policy });
  let done: SenderThreadReply[] = [];
  const reply = () => {
    const batch = done;
    done = [];
    port.postMessage(batch);
  };
  port.on('message', (batch: SenderThreadRequest[]) => {
    for (const { id, request } of batch) {
      void sender.post(request).then(undefined, (error: unknown): SendResult => ({ kind: 'error', error: `the sender failed: ${String(error)}`, durationMs: 0 })).then((result) => {
        if (done.push({ id, result }) === 1) setImmediate(reply);
      });
    }
  });
}
