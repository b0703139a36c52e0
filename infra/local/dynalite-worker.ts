/**
 * dynalite in a worker thread: DynamoDB's stand-in gets its own event loop (and core), so the
 * handlers' event loop is not also doing LevelDB's work. Posts its port, closes on 'stop'.
 */
import type { AddressInfo } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';

const db = dynalite({ path: (workerData as { path: string }).path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
db.listen(0, '127.0.0.1', () => parentPort!.postMessage({ port: (db.address() as AddressInfo).port }));
parentPort!.on('message', (message) => {
  if (message === 'stop') db.close(() => parentPort!.postMessage('stopped'));
});
