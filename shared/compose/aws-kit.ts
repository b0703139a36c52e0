/**
 * The type of what a function's handler.ts gives its composition root on Lambda: some of the
 * factories of shared/adapters/aws/kit.ts, imported as a type only, so that a root (and the
 * one-machine runtime that imports every root) loads no AWS adapter or SDK client by itself.
 */
import type * as factories from '../adapters/aws/kit.ts';
import type { AwsContext } from '../adapters/aws/kit.ts';

type Factories = typeof factories;
export type AwsAdapterName = keyof Factories;

/** A function's AWS adapters: the factories its root calls (functions/<name>/aws.ts). */
export type AwsKit = { readonly [K in AwsAdapterName]?: Factories[K] };

/** The arguments of factory `K` after the context. */
export type AwsAdapterArgs<K extends AwsAdapterName> = Factories[K] extends (c: AwsContext, ...args: infer A) => unknown ? A : never;
export type AwsAdapterOf<K extends AwsAdapterName> = ReturnType<Factories[K]>;
