/**
 * Log bytes the harness does not see being written but AWS ingests: the Lambda platform's lines
 * of each invocation (START/END/REPORT in the Text format, platform.start/platform.report in
 * JSON), and the HTTP API's access log line, built from the stage's own format string.
 */
import type { ApiRequest, ApiResponse } from '../lambda/api-gateway.ts';

const REQUEST_ID = '8f5c2a8e-1b7d-4c3e-9a4f-2d6e8b0c1f3a';
const TRACE_ID = '1-67a1b2c3-5ac6c58f3e2b5c1a2d3e4f5a';

/** The platform's log lines of one invocation, in bytes. */
export function platformLogBytes(format: 'Text' | 'JSON', durationMs: number, memoryMb: number, tracing: boolean): number {
  const duration = durationMs.toFixed(2);
  const billed = Math.ceil(durationMs);
  const used = Math.min(memoryMb, 100);
  if (format === 'JSON') {
    const time = '2025-01-01T00:00:00.000Z';
    const start = { time, type: 'platform.start', record: { requestId: REQUEST_ID, version: '$LATEST' } };
    const report = {
      time,
      type: 'platform.report',
      record: {
        requestId: REQUEST_ID,
        metrics: { durationMs: Number(duration), billedDurationMs: billed, memorySizeMB: memoryMb, maxMemoryUsedMB: used },
        ...(tracing ? { tracing: { spanId: '6b5c1a2d3e4f5a6b', type: 'X-Amzn-Trace-Id', value: `Root=${TRACE_ID};Parent=6b5c1a2d3e4f5a6b;Sampled=1` } } : {}),
        status: 'success',
      },
    };
    return Buffer.byteLength(`${JSON.stringify(start)}\n${JSON.stringify(report)}\n`);
  }
  const lines = [
    `START RequestId: ${REQUEST_ID} Version: $LATEST`,
    `END RequestId: ${REQUEST_ID}`,
    `REPORT RequestId: ${REQUEST_ID}\tDuration: ${duration} ms\tBilled Duration: ${billed} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: ${used} MB\t`,
    ...(tracing ? [`XRAY TraceId: ${TRACE_ID}\tSegmentId: 6b5c1a2d3e4f5a6b\tSampled: true\t`] : []),
  ];
  return Buffer.byteLength(`${lines.join('\n')}\n`);
}

/** One access log line of the stage's format, its `$context` variables filled from the request. */
export function accessLogBytes(format: string, request: ApiRequest, routeKey: string, response: ApiResponse): number {
  const values: Record<string, string> = {
    requestId: 'Jx8a1hV2IAMEbVw=',
    'identity.sourceIp': '198.51.100.7',
    requestTime: '01/Jan/2025:00:00:00 +0000',
    routeKey,
    status: String(response.status),
    protocol: 'HTTP/1.1',
    responseLength: String(Buffer.byteLength(response.text)),
    responseLatency: '42',
    integrationLatency: '40',
    integrationErrorMessage: '-',
    'identity.userAgent': request.headers?.['user-agent'] ?? 'lambda-suite/1.0',
  };
  const line = format.replace(/\$context\.([A-Za-z.]+)/g, (_m, name: string) => values[name] ?? '-');
  return Buffer.byteLength(`${line}\n`);
}
