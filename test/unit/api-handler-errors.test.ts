import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HooklineError } from '../../shared/errors.ts';
import { apiHandler } from '../../shared/http/api-handler.ts';

/** A route that throws what it is given, behind a tenant key that is always right. */
function throwing(error: unknown) {
  const logged: string[] = [];
  const handler = apiHandler({
    auth: { kind: 'tenant', authenticate: async () => 'ten_A' },
    logError: (message) => void logged.push(message),
    routes: {
      'GET /api/v1/event-types': async () => {
        throw error;
      },
    },
  });
  const event = {
    version: '2.0',
    routeKey: 'GET /api/v1/event-types',
    rawPath: '/api/v1/event-types',
    rawQueryString: '',
    headers: { authorization: 'Bearer hk_right' },
    requestContext: { http: { method: 'GET', path: '/api/v1/event-types', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: '' } },
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
  return { call: () => handler(event, {} as Context), logged };
}

describe('the API handler: which server errors the client reads', () => {
  it('a 503 goes out as written: it tells the client to send the request again', async () => {
    const answer = await throwing(new HooklineError(503, 'Events could not be queued; send the same request again')).call();
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(answer.body as string)).toEqual({ error: 'Events could not be queued; send the same request again' });
  });

  it('any other 5xx, or an unknown error, is a bare 500 and is logged', async () => {
    for (const error of [new HooklineError(502, 'upstream said no: secret detail'), new Error('DynamoDB: secret detail')]) {
      const h = throwing(error);
      const answer = await h.call();
      expect(answer.statusCode).toBe(500);
      expect(answer.body).not.toContain('secret detail');
      expect(h.logged).toHaveLength(1);
    }
  });
});

describe('the API handler: a body that is not UTF-8', () => {
  it('is a 400 when API Gateway hands it over base64-encoded, and the route never runs', async () => {
    let ran = false;
    const handler = apiHandler({
      auth: { kind: 'tenant', authenticate: async () => 'ten_A' },
      logError: () => undefined,
      routes: {
        'POST /v1/events': async () => {
          ran = true;
          return { statusCode: 202, body: {} };
        },
      },
    });
    const body = Buffer.concat([Buffer.from('{"event":"scan.completed","data":{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const event = {
      version: '2.0',
      routeKey: 'POST /v1/events',
      rawPath: '/v1/events',
      rawQueryString: '',
      headers: { authorization: 'Bearer hk_right', 'content-type': 'application/json' },
      requestContext: { http: { method: 'POST', path: '/v1/events', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: '' } },
      body: body.toString('base64'),
      isBase64Encoded: true,
    } as unknown as APIGatewayProxyEventV2;
    const answer = await handler(event, {} as Context);
    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body as string)).toEqual({ error: 'Request body is not valid UTF-8' });
    expect(ran).toBe(false);
  });
});

describe('the API handler: whose limit a request counts against', () => {
  it("a tenant's, by its id; a public route's, by the client's address", async () => {
    const keys: string[] = [];
    const handler = apiHandler({
      auth: { kind: 'tenant', authenticate: async () => 'ten_A' },
      logError: () => undefined,
      rateLimit: (key) => void keys.push(key),
      routes: {
        'GET /api/v1/event-types': async () => ({ statusCode: 200, body: {} }),
        'GET /api/v1/email-verifications/{token}': async () => ({ statusCode: 200, body: {} }),
      },
    });
    const call = (routeKey: string, sourceIp: string) =>
      handler(
        {
          version: '2.0',
          routeKey,
          rawPath: '/',
          rawQueryString: '',
          headers: { authorization: 'Bearer hk_right' },
          requestContext: { http: { method: 'GET', path: '/', protocol: 'HTTP/1.1', sourceIp, userAgent: '' } },
          isBase64Encoded: false,
        } as unknown as APIGatewayProxyEventV2,
        {} as Context,
      );
    await call('GET /api/v1/event-types', '192.0.2.1');
    await call('GET /api/v1/email-verifications/{token}', '192.0.2.1');
    await call('GET /api/v1/email-verifications/{token}', '192.0.2.2');
    expect(keys).toEqual(['ten_A', 'none:192.0.2.1', 'none:192.0.2.2']);
  });
});
