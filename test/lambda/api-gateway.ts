/**
 * The HTTP API as API Gateway plays it, read from the template: routes (`RouteKey` -> integration
 * -> function), the payload format 2.0 event each route sends its function, the answer it makes
 * of the function's result, and the resource-based permission (`AWS::Lambda::Permission`) that
 * lets API Gateway invoke the function at all.
 */
import { randomUUID } from 'node:crypto';
import { globMatch } from './iam.ts';
import { ACCOUNT, API_ID, PARTITION, REGION, StackModel } from './template.ts';

export interface ApiRoute {
  readonly routeKey: string;
  readonly method: string;
  /** `/api/v1/integrations/webhooks/{id}/test` */
  readonly path: string;
  readonly functionLogicalId: string;
  readonly payloadFormatVersion: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  /** Lower wins: fewer parameters, then greedy `{proxy+}` routes, then `$default`. */
  readonly priority: number;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  /** The body parsed as JSON, or undefined. */
  readonly json: any;
}

export interface ApiRequest {
  readonly method: string;
  /** Path and query, e.g. `/api/v1/integrations/webhooks?page=1`. */
  readonly target: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export const API_DOMAIN = `${API_ID}.execute-api.${REGION}.amazonaws.com`;

/** The function an integration URI names: its `Fn::GetAtt [fn, Arn]`, possibly inside a `Fn::Join`. */
function integratedFunction(uri: unknown): string | undefined {
  const direct = StackModel.target(uri);
  if (direct) return direct;
  const join = (uri as Record<string, unknown> | undefined)?.['Fn::Join'] as [string, unknown[]] | undefined;
  return join?.[1].map((part) => StackModel.target(part)).find((id) => id && !id.startsWith('AWS::'));
}

export function apiRoutes(model: StackModel): ApiRoute[] {
  return model.ofType('AWS::ApiGatewayV2::Route').map((id) => {
    const p = model.resource(id).Properties;
    const routeKey = String(p.RouteKey);
    const integrationId = integrationOfTarget(p.Target);
    if (!integrationId) throw new Error(`route ${routeKey} has no integration`);
    const integration = model.resource(integrationId).Properties;
    const fn = integratedFunction(integration.IntegrationUri);
    if (!fn) throw new Error(`route ${routeKey}: its integration names no function of the template`);
    // `$default` catches what no other route matches (its events carry no path parameters).
    const isDefault = routeKey === '$default';
    const [method, path] = isDefault ? ['ANY', '/*'] : (routeKey.split(' ') as [string, string]);
    const params: string[] = [];
    const pattern = isDefault
      ? /^\/.*$/
      : new RegExp(
          `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(\+?)\}/g, (_m, name: string, greedy: string) => {
            params.push(name);
            return greedy ? '(.+)' : '([^/]+)';
          })}$`,
        );
    const priority = isDefault ? 1000 : (/\+\}/.test(path) ? 100 : 0) + params.length;
    return { routeKey, method, path, functionLogicalId: fn, payloadFormatVersion: String(integration.PayloadFormatVersion ?? '1.0'), pattern, params, priority };
  });
}

/** `Target: {Fn::Join: ['', ['integrations/', {Ref: Integration}]]}` -> the integration's logical id. */
function integrationOfTarget(target: unknown): string | undefined {
  const join = (target as Record<string, unknown> | undefined)?.['Fn::Join'] as [string, unknown[]] | undefined;
  return join?.[1].map((part) => StackModel.target(part)).find((id) => id !== undefined);
}

/** API Gateway's route selection: the route whose method and path template match (most specific first). */
export function selectRoute(routes: readonly ApiRoute[], method: string, path: string): ApiRoute | undefined {
  const candidates = routes.filter((r) => (r.method === method || r.method === 'ANY') && r.pattern.test(path));
  // More specific first: `/webhooks/test` wins over `/webhooks/{id}`, which wins over `{proxy+}` and `$default`.
  return candidates.sort((a, b) => a.priority - b.priority)[0];
}

/** The source ARN API Gateway invokes a route's function with, for a request of `method`. */
export const executeApiArn = (route: ApiRoute, method: string) =>
  `arn:${PARTITION}:execute-api:${REGION}:${ACCOUNT}:${API_ID}/$default/${method}${route.routeKey === '$default' ? '/$default' : route.path}`;

/** Whether an `AWS::Lambda::Permission` lets `principal` invoke the function from `sourceArn`. */
export function invokePermitted(model: StackModel, functionLogicalId: string, principal: string, sourceArn: string): boolean {
  return model.ofType('AWS::Lambda::Permission').some((id) => {
    const p = model.resource(id).Properties;
    if (StackModel.target(p.FunctionName) !== functionLogicalId || p.Principal !== principal) return false;
    if (p.Action !== 'lambda:InvokeFunction' && p.Action !== 'lambda:*') return false;
    if (p.SourceArn === undefined) return true;
    return globMatch(String(model.resolve(p.SourceArn, { sqsOrigin: '' })), sourceArn);
  });
}

/** The payload format 2.0 event API Gateway sends for a request on a route. */
export function apiEvent(route: ApiRoute, request: ApiRequest, now: Date): Record<string, unknown> {
  const queryAt = request.target.indexOf('?');
  const path = queryAt === -1 ? request.target : request.target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : request.target.slice(queryAt + 1);
  const match = route.pattern.exec(path)!;
  const pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) query[name] = name in query ? `${query[name]},${value}` : value;
  const headers: Record<string, string> = {
    host: API_DOMAIN,
    'user-agent': 'lambda-suite/1.0',
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
    'x-amzn-trace-id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) }),
  };
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value;
  const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(now.getUTCDate())}/${month}/${now.getUTCFullYear()}:${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`;
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: path,
    rawQueryString,
    headers,
    ...(rawQueryString ? { queryStringParameters: query } : {}),
    ...(route.params.length ? { pathParameters } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      domainName: API_DOMAIN,
      domainPrefix: API_ID,
      http: { method: request.method, path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: headers['user-agent'] },
      requestId: randomUUID().slice(0, 18),
      routeKey: route.routeKey,
      stage: '$default',
      time,
      timeEpoch: now.getTime(),
    },
    ...(request.body === undefined ? {} : { body: request.body }),
    isBase64Encoded: false,
  };
}

const parse = (text: string): any => {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
};

export const apiAnswer = (status: number, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): ApiResponse => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers, text, json: parse(text) };
};

/** What API Gateway makes of a payload 2.0 function result (a function error is a 500). */
export function apiResponse(result: { ok: true; value: any } | { ok: false }): ApiResponse {
  if (!result.ok) return apiAnswer(500, { message: 'Internal Server Error' });
  const value = result.value;
  if (value && typeof value === 'object' && 'statusCode' in value) {
    const raw = value.body === undefined ? '' : String(value.body);
    const text = value.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    const headers = Object.fromEntries(Object.entries((value.headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), String(v)]));
    return { status: Number(value.statusCode), headers, text, json: parse(text) };
  }
  // Without a statusCode, API Gateway assumes 200 and a JSON body.
  return apiAnswer(200, value ?? '');
}
