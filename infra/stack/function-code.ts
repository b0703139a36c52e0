/**
 * A function's code asset: its handler bundled by esbuild's JavaScript API inside the synth's own
 * process, with the settings of bundling.ts (the bench builds with the same), and the files it
 * ships beside the bundle copied in.
 *
 * Not NodejsFunction's bundling: that runs esbuild through `npx --no-install` once per function
 * (npm's own start, about 0.75 s each, was half of an 11 s synth here), and shipping a file beside
 * the bundle took a shell command hook. The asset is the same: `index.mjs` plus those files, hashed
 * by its output, and `cdk synth` without bundling (`aws:cdk:bundling-stacks`) skips it likewise.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import type { ShippedFile } from './build-assets.ts';
import { esbuildOptions } from './bundling.ts';

/** The file the bundle is written to, and the handler setting that names its `handler` export. */
const BUNDLE_ENTRY_FILE = 'index.mjs';
export const LAMBDA_HANDLER = 'index.handler';

export interface BundledCodeProps {
  /** The handler module, e.g. `<project>/functions/ingest/handler.ts`. */
  readonly entry: string;
  /** The directory esbuild resolves packages from (the project root, with its node_modules). */
  readonly projectRoot: string;
  /** Files copied beside the bundle. @default none */
  readonly shipped?: readonly ShippedFile[];
  /**
   * What else makes this bundle differ from another of the same entry (a catalogue's hash): CDK
   * keeps one bundle per asset cache key in a process, and the key sees the bundling options, not
   * what `shipped` files contain. @default none
   */
  readonly cacheKey?: Readonly<Record<string, string>>;
}

export function bundledCode(props: BundledCodeProps): Code {
  const shipped = props.shipped ?? [];
  return Code.fromAsset(props.projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never pulled: local bundling below always bundles or throws
      // (synth must work offline and without a Docker daemon).
      image: DockerImage.fromRegistry('hookline-local-bundling-only'),
      // Not read by anything: part of CDK's asset cache key, which sees these options but not the
      // closure below, so that bundles of other entries or shipped files are never shared.
      environment: { HOOKLINE_ENTRY: props.entry, HOOKLINE_SHIPPED: JSON.stringify(shipped), ...props.cacheKey },
      local: {
        tryBundle(outputDir: string): boolean {
          buildSync({
            ...esbuildOptions(),
            entryPoints: [props.entry],
            outfile: join(outputDir, BUNDLE_ENTRY_FILE),
            absWorkingDir: props.projectRoot,
          });
          for (const [file, name] of shipped) copyFileSync(file, join(outputDir, name));
          return true;
        },
      },
    },
  });
}
