/**
 * The HTTP API: one route per entry of ROUTES (shared/http/routes.ts, the same table the
 * one-machine runtime routes with), each integrated with the function the entry names.
 */
import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CfnStage, HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES } from '../../shared/http/routes.ts';
import type { ApiFunction } from '../../shared/http/routes.ts';
import { constructId } from './functions.ts';

export interface HooklineApiProps {
  readonly functions: Record<ApiFunction, LambdaFunction>;
  /**
   * The stage's throttles are shared by every tenant: a safety net for the deployment, set far
   * above one tenant's limit, which the functions apply per tenant (usecases/rate-limits.ts).
   */
  readonly rateLimit: number;
  readonly burstLimit: number;
  /** Throttling of `POST /v1/events` (INGEST_ROUTE_KEY), apart from the other routes. */
  readonly ingestRateLimit: number;
  readonly ingestBurstLimit: number;
  readonly logRetention: RetentionDays;
}

/** The publishing route, throttled on its own. */
export const INGEST_ROUTE_KEY = 'POST /v1/events';

const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  userAgent: '$context.identity.userAgent',
};

export class HooklineApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: HooklineApiProps) {
    super(scope, id);
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Hookline: event publishing, webhook management and admin API',
      // The stage is created below so that it can have throttling and access logs.
      createDefaultStage: false,
    });
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const cfnStage = this.stage.node.defaultChild as CfnStage;
    // RouteSettings is a JSON map in CloudFormation, passed through as is: CloudFormation's casing.
    cfnStage.routeSettings = {
      [INGEST_ROUTE_KEY]: { ThrottlingRateLimit: props.ingestRateLimit, ThrottlingBurstLimit: props.ingestBurstLimit },
    };

    // One integration per function, shared by its routes.
    const integrations = new Map<ApiFunction, HttpLambdaIntegration>();
    const integrationFor = (fn: ApiFunction) => {
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${constructId(fn)}Integration`, props.functions[fn]);
        integrations.set(fn, integration);
      }
      return integration;
    };
    for (const route of ROUTES) {
      const routes = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationFor(route.fn),
      });
      for (const r of routes) {
        // Route settings name the route by its key: the route must exist before the stage names it.
        if (`${route.method} ${route.path}` === INGEST_ROUTE_KEY) this.stage.node.addDependency(r);
        const reason =
          'Hookline authenticates every request inside the function with an Authorization: Bearer API key (tenant keys and the admin key, stored hashed, 401 on a missing or wrong key) as CONTRACT.md section 2 specifies; an API Gateway authorizer would duplicate that lookup. GET /openapi.json is a public document.';
        Validations.of(r).acknowledge({ id: 'AwsSolutions-APIG4', reason });
      }
    }
    // Every path no route names gets the contract's JSON 404 from the openapi function (which
    // calls nothing), not API Gateway's own {"message":"Not Found"}.
    const fallback = new HttpRoute(this, 'DefaultRoute', { httpApi: this.httpApi, routeKey: HttpRouteKey.DEFAULT, integration: integrationFor('openapi') });
    Validations.of(fallback).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'The $default route only answers 404 in the contract\'s JSON error shape; it reads and returns nothing.',
    });
    if (!ROUTES.some((r) => `${r.method} ${r.path}` === INGEST_ROUTE_KEY)) {
      throw new Error(`HooklineApi: ${INGEST_ROUTE_KEY} is not in ROUTES, so its throttling would name no route`);
    }
  }

  /** The base URL of the API (the default stage is at the root). */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
