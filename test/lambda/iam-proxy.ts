/**
 * One function's way to AWS: an HTTP server on 127.0.0.1 that its SDK clients reach through
 * `AWS_ENDPOINT_URL_<SERVICE>`. Each request is authorized with the function's role policies
 * (the action and resource IAM would check, see aws-requests.ts): allowed, it is forwarded
 * unchanged to the stand-in of its service; denied, it gets the AccessDenied answer of its
 * protocol and the denial is recorded.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessDenied, describeCall, signatureOf, type AwsCall, type DescribeOptions, type HttpAnswer } from './aws-requests.ts';
import { PRINCIPAL_HEADER } from './fake-aws.ts';
import type { AccessLog, ResourcePolicies, RolePolicies } from './iam.ts';

export interface Upstreams {
  readonly dynamodb: string;
  readonly sqs: string;
  /** Secrets Manager, SESv2 and Scheduler (fake-aws.ts). */
  readonly fakes: string;
}

export interface IamProxyOptions {
  /** The function's short name, as denials name it. */
  readonly principal: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<function>`: the caller AccessDenied names. */
  readonly callerArn: string;
  /** The access key id the function was given: a request signed with another is refused. */
  readonly accessKeyId: string;
  readonly policies: RolePolicies;
  readonly resourcePolicies: ResourcePolicies;
  readonly log: AccessLog;
  readonly upstreams: Upstreams;
  readonly describe: DescribeOptions;
  /** Sees every allowed call and its answer (the cost meter, test/cost); none: calls are only forwarded. */
  readonly meter?: CallMeter;
}

/**
 * Observes allowed calls: `begin` runs before the call is forwarded (it may read the stand-ins,
 * e.g. the item a write replaces) and returns what to run with the whole answer, which the
 * function gets once that has run.
 */
export interface CallMeter {
  begin(principal: string, call: AwsCall, body: Buffer): Promise<((status: number, body: Buffer) => Promise<void>) | undefined>;
}

export interface IamProxy {
  readonly origin: string;
  close(): Promise<void>;
}

const send = (res: ServerResponse, a: HttpAnswer) => {
  res.writeHead(a.status, a.headers);
  res.end(a.body);
};

export async function startIamProxy(options: IamProxyOptions): Promise<IamProxy> {
  const handle = async (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const signature = signatureOf(req.headers.authorization);
    if (!signature) {
      return send(res, { status: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'Missing Authentication Token' }) });
    }
    if (signature.accessKeyId !== options.accessKeyId) {
      return send(res, {
        status: 403,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'UnrecognizedClientException' },
        body: JSON.stringify({ message: `The security token included in the request is invalid (${signature.accessKeyId} is not ${options.principal}'s key)` }),
      });
    }
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    let call;
    try {
      call = describeCall(signature.service, method, url, req.headers, body, options.describe);
    } catch (err) {
      return send(res, { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: (err as Error).message }) });
    }
    const denial = options.log.authorize(options.principal, `${call.service} ${call.operation}`, options.policies, call.requests, options.resourcePolicies);
    if (denial) {
      const request = call.requests.find((r) => r.action === denial.action && r.resource === denial.resource)!;
      return send(res, accessDenied(call, options.callerArn, request, denial.reason));
    }
    const metered = options.meter ? await options.meter.begin(options.principal, call, body).catch(() => undefined) : undefined;
    const upstream = new URL(
      signature.service === 'dynamodb' ? options.upstreams.dynamodb : signature.service === 'sqs' ? options.upstreams.sqs : options.upstreams.fakes,
    );
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: url,
        headers: { ...req.headers, host: upstream.host, [PRINCIPAL_HEADER]: options.principal },
      },
      (upstreamRes) => {
        if (!metered) {
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (c: Buffer) => chunks.push(c));
        upstreamRes.on('end', () => {
          const answer = Buffer.concat(chunks);
          void metered(upstreamRes.statusCode ?? 502, answer)
            .catch(() => undefined)
            .then(() => {
              res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
              res.end(answer);
            });
        });
      },
    );
    forward.on('error', (err) => {
      if (!res.headersSent) send(res, { status: 502, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `stand-in unreachable: ${err.message}` }) });
      else res.destroy();
    });
    forward.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
