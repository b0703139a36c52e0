/**
 * What an AWS adapter calls, method by method, and on which of the stack's resources. A function's
 * composition root hands out adapter methods through an AwsCallLog, which records their calls; the
 * stack grants each function exactly those (infra/stack/permissions.ts). A grant exists because
 * code that a function is given makes the call, and a method a function is not given costs it
 * no grant.
 */
import type { Settings } from '../../config.ts';

export type TableKey = keyof Settings['tables'];
export type QueueKey = keyof Settings['queues'];
/**
 * The tenants' webhook credentials (`<prefix>tenants/<tenant>`), the admin API key's secret, or
 * the key portal session tokens are signed with (`<prefix>portal-signing-key`, made on first use).
 */
export type SecretScope = 'webhook-secrets' | 'admin-key' | 'portal-key';

/** A resource by its role in the stack; the stack resolves it to ARNs. */
export type AwsResource =
  | { readonly kind: 'table'; readonly table: TableKey }
  | { readonly kind: 'queue'; readonly queue: QueueKey }
  | { readonly kind: 'secrets'; readonly scope: SecretScope }
  /** The verified SES identity emails are sent from. */
  | { readonly kind: 'sender-identity' }
  /** The one-time schedules of the stack's retry schedule group. */
  | { readonly kind: 'retry-schedules' }
  /** The role EventBridge Scheduler assumes to run the retry schedules (passed on to Scheduler). */
  | { readonly kind: 'scheduler-role' };

/** IAM actions (`service:Action`) on one resource. */
export interface AwsCall {
  readonly actions: readonly string[];
  readonly on: AwsResource;
}

/** The names of T's public methods (the declaration itself aside). */
export type MethodsOf<T> = { [K in Exclude<keyof T, 'awsCalls'>]-?: T[K] extends (...args: never[]) => unknown ? K : never }[Exclude<keyof T, 'awsCalls'>];

/** An adapter's declaration: for every public method, the calls it makes (directly or through the others). */
export type AwsCalls<T> = { readonly [K in MethodsOf<T>]: readonly AwsCall[] };

/** An adapter that declares its AWS calls. */
export interface AwsAdapter {
  readonly awsCalls: Readonly<Record<string, readonly AwsCall[]>>;
}

export const dynamoCall = (table: TableKey, ...actions: string[]): AwsCall => ({
  actions: actions.map((a) => `dynamodb:${a}`),
  on: { kind: 'table', table },
});

/**
 * The calls of the adapter methods one composition root hands out. `use(adapter, ...methods)`
 * returns the adapter narrowed to those methods, so a use case given it can call nothing else
 * (the compiler checks that the methods cover the use case's port).
 */
export class AwsCallLog {
  private readonly recorded: AwsCall[] = [];

  use<T extends Partial<AwsAdapter>, K extends MethodsOf<T>>(adapter: T, ...methods: K[]): Pick<T, K> {
    // The one-machine runtime's adapters (LocalAdapters) call nothing on AWS and declare nothing.
    if (!adapter.awsCalls) return adapter;
    for (const method of methods) {
      const calls = adapter.awsCalls[method as string];
      if (!calls) throw new Error(`${adapter.constructor.name} declares no AWS calls for ${String(method)}`);
      this.recorded.push(...calls);
    }
    return adapter;
  }

  /** Every call recorded so far, one entry per resource with its actions merged and sorted. */
  get calls(): AwsCall[] {
    const byResource = new Map<string, { on: AwsResource; actions: Set<string> }>();
    for (const call of this.recorded) {
      const key = JSON.stringify(call.on);
      const entry = byResource.get(key) ?? { on: call.on, actions: new Set<string>() };
      call.actions.forEach((a) => entry.actions.add(a));
      byResource.set(key, entry);
    }
    return [...byResource.values()].map(({ on, actions }) => ({ on, actions: [...actions].sort() }));
  }
}
