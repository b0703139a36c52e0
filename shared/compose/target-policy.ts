import { networkInterfaces } from 'node:os';
import type { TargetPolicy } from '../domain/targets.ts';
import type { FunctionBase } from './function-base.ts';

/**
 * Where webhooks may point: checked when a URL is set (the webhooks API) and again on every
 * connection (the guarded sender, outbound.ts). Apart from the sender, so that a function that
 * only checks URLs carries no HTTP client.
 */

export interface TargetOverrides {
  /**
   * Ports this machine's Hookline listens on (its API, the stand-ins): no webhook may reach them.
   * On Lambda, the runtime API's port is added from `AWS_LAMBDA_RUNTIME_API`.
   */
  readonly ownPorts?: readonly number[];
}

export function targetPolicy(f: FunctionBase, overrides: TargetOverrides): TargetPolicy {
  const runtimeApiPort = Number(f.env['AWS_LAMBDA_RUNTIME_API']?.split(':').pop());
  const ownPorts = [...(overrides.ownPorts ?? []), ...(Number.isInteger(runtimeApiPort) && runtimeApiPort > 0 ? [runtimeApiPort] : [])];
  return {
    allowPrivateTargets: f.settings.allowPrivateTargets,
    allowedPorts: f.settings.allowedPorts,
    ownPorts,
    localAddresses: ownPorts.length > 0 ? Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)) : [],
    ownHosts: f.settings.ownHosts,
  };
}
