import { NodeHttpSender } from '../adapters/http/node-http-sender.ts';
import type { Catalogue } from '../domain/catalogue.ts';
import type { TargetPolicy } from '../domain/targets.ts';
import { AttemptSender } from '../usecases/attempt-sender.ts';
import { OAuth2Tokens } from '../usecases/oauth2-tokens.ts';
import type { OutboundSettings } from '../usecases/outbound-request.ts';
import type { HttpSender } from '../usecases/ports.ts';
import type { FunctionBase } from './function-base.ts';
import { targetPolicy, type TargetOverrides } from './target-policy.ts';

/**
 * What the two functions that POST to receivers share (the dispatcher's attempts, webhook-test's
 * test event, and their OAuth2 token requests): the target policy, the guarded sender, signed
 * requests. No other function imports this, so no other bundle carries an HTTP client.
 */

export interface OutboundOverrides extends TargetOverrides {
  /** Replaces the guarded sender (tests; the one-machine runtime's sender thread, given the policy). */
  readonly sender?: HttpSender | ((policy: TargetPolicy) => HttpSender);
}

export interface Outbound {
  readonly policy: TargetPolicy;
  readonly settings: OutboundSettings;
  /** Signed POSTs with the webhook's auth (OAuth2 tokens cached per container). */
  readonly attemptSender: AttemptSender;
}

export function outbound(f: FunctionBase, catalogue: Catalogue, overrides: OutboundOverrides): Outbound {
  const policy = targetPolicy(f, overrides);
  const settings: OutboundSettings = {
    signatureHeader: f.settings.signatureHeader,
    requestTimeoutMs: f.settings.requestTimeoutMs,
    version: f.settings.version,
    deploymentHost: f.settings.deploymentHost,
    catalogue,
  };
  const sender = typeof overrides.sender === 'function' ? overrides.sender(policy) : (overrides.sender ?? new NodeHttpSender({ policy }));
  const tokens = new OAuth2Tokens(sender, f.clock, f.settings.requestTimeoutMs);
  return { policy, settings, attemptSender: new AttemptSender(sender, tokens, settings) };
}
