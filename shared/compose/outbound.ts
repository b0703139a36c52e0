import { networkInterfaces } from 'node:os';
import { NodeHttpSender } from '../adapters/http/node-http-sender.ts';
import type { Catalogue } from '../domain/catalogue.ts';
import type { TargetPolicy } from '../domain/targets.ts';
import { AttemptSender } from '../usecases/attempt-sender.ts';
import { OAuth2Tokens } from '../usecases/oauth2-tokens.ts';
import type { OutboundSettings } from '../usecases/outbound-request.ts';
import type { HttpSender } from '../usecases/ports.ts';
import type { FunctionBase } from './function-base.ts';

/**
 * What the two functions that POST to receivers share (the dispatcher's attempts, the webhooks
 * API's test event and OAuth2 token requests): the target policy, the guarded sender, signed
 * requests. No other function imports this, so no other bundle carries an HTTP client.
 */

export interface OutboundOverrides {
  /** Replaces the guarded sender (tests). */
  readonly sender?: HttpSender;
  /**
   * Ports this machine's Hookline listens on (its API, the stand-ins): no webhook may reach them.
   * On Lambda, the runtime API's port is added from `AWS_LAMBDA_RUNTIME_API`.
   */
  readonly ownPorts?: readonly number[];
}

export interface Outbound {
  readonly policy: TargetPolicy;
  readonly settings: OutboundSettings;
  /** Signed POSTs with the webhook's auth (OAuth2 tokens cached per container). */
  readonly attemptSender: AttemptSender;
}

export function outbound(f: FunctionBase, catalogue: Catalogue, overrides: OutboundOverrides): Outbound {
  const runtimeApiPort = Number(f.env['AWS_LAMBDA_RUNTIME_API']?.split(':').pop());
  const ownPorts = [...(overrides.ownPorts ?? []), ...(Number.isInteger(runtimeApiPort) && runtimeApiPort > 0 ? [runtimeApiPort] : [])];
  const policy: TargetPolicy = {
    allowPrivateTargets: f.settings.allowPrivateTargets,
    allowedPorts: f.settings.allowedPorts,
    ownPorts,
    localAddresses: ownPorts.length > 0 ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)) : [],
    ownHosts: f.settings.ownHosts,
  };
  const settings: OutboundSettings = {
    signatureHeader: f.settings.signatureHeader,
    requestTimeoutMs: f.settings.requestTimeoutMs,
    version: f.settings.version,
    deploymentHost: f.settings.deploymentHost,
    catalogue,
  };
  const sender = overrides.sender ?? new NodeHttpSender({ policy });
  const tokens = new OAuth2Tokens(sender, f.clock, f.settings.requestTimeoutMs);
  return { policy, settings, attemptSender: new AttemptSender(sender, tokens, settings) };
}
