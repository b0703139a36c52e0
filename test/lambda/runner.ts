/**
 * A warm Lambda container's runtime, in a child process of the suite (the harness forks it with
 * the Node binary of the test run, cwd = the bundle's folder, env = the function's environment).
 * As Lambda's Node.js runtime does, it imports the module the `Handler` setting names and calls
 * its export once per invocation, one invocation at a time, with a context whose remaining time
 * counts down from the function's timeout.
 *
 * argv: <module file> <export name> <function name> <memory MB> <clock offset ms>
 * IPC in:  {type: 'invoke', id, event, timeoutMs, requestId} | {type: 'clock', offsetMs}
 * IPC out: {type: 'ready', initMs} | {type: 'init-error', error} | {type: 'result', id, ok, value | error, durationMs} | {type: 'crash', error}
 */
import { realNow, setClockOffset } from './clock.ts';
import { pathToFileURL } from 'node:url';

interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  readonly timeoutMs: number;
  readonly requestId: string;
}
type Incoming = InvokeMessage | { readonly type: 'clock'; readonly offsetMs: number };
type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const [moduleFile, exportName, functionName, memoryMb, offset] = process.argv.slice(2) as [string, string, string, string, string];
setClockOffset(Number(offset));

const send = (message: unknown) => process.send!(message);
const errorOf = (err: unknown) =>
  err instanceof Error
    ? { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? '').split('\n') }
    : { errorType: 'Error', errorMessage: String(err), trace: [] };

process.on('uncaughtException', (err) => {
  send({ type: 'crash', error: errorOf(err) });
  process.exit(129);
});
process.on('unhandledRejection', (err) => {
  send({ type: 'crash', error: { ...errorOf(err), errorType: 'Runtime.UnhandledPromiseRejection' } });
  process.exit(128);
});

let handler: Handler | undefined;
const queued: InvokeMessage[] = [];
let busy = false;

async function run(message: InvokeMessage): Promise<void> {
  const deadline = realNow() + message.timeoutMs;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env['AWS_REGION']}:000000000000:function:${functionName}`,
    memoryLimitInMB: memoryMb,
    awsRequestId: message.requestId,
    logGroupName: process.env['AWS_LAMBDA_LOG_GROUP_NAME'],
    logStreamName: process.env['AWS_LAMBDA_LOG_STREAM_NAME'],
    getRemainingTimeInMillis: () => Math.max(0, deadline - realNow()),
  };
  process.env['_X_AMZN_TRACE_ID'] = `Root=1-${Math.floor(realNow() / 1000).toString(16)}-${message.requestId.replace(/-/g, '').slice(0, 24)};Parent=0000000000000001;Sampled=0`;
  // The handler's own time, as Lambda bills it (Duration in the REPORT line).
  const began = performance.now();
  try {
    const value = await handler!(message.event, context);
    send({ type: 'result', id: message.id, ok: true, value: value === undefined ? null : value, durationMs: performance.now() - began });
  } catch (err) {
    send({ type: 'result', id: message.id, ok: false, error: errorOf(err), durationMs: performance.now() - began });
  }
}

async function drain(): Promise<void> {
  if (busy || !handler) return;
  busy = true;
  while (queued.length > 0) await run(queued.shift()!);
  busy = false;
}

process.on('message', (message: Incoming) => {
  if (message.type === 'clock') setClockOffset(message.offsetMs);
  else {
    queued.push(message);
    void drain();
  }
});

const started = realNow();
try {
  const module = (await import(pathToFileURL(moduleFile).href)) as Record<string, unknown>;
  const exported = module[exportName];
  if (typeof exported !== 'function') throw new Error(`Runtime.HandlerNotFound: ${moduleFile} does not export a function ${exportName}`);
  handler = exported as Handler;
  send({ type: 'ready', initMs: realNow() - started });
  void drain();
} catch (err) {
  send({ type: 'init-error', error: errorOf(err) });
  process.exit(1);
}
