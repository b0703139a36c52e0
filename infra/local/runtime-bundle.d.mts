// Types of runtime-bundle.mjs (plain JavaScript, run before any TypeScript loads).
/** Where the bundle and its manifest are kept: `runtime-bundle/` in Hookline's cache directory. */
export declare const runtimeBundleDir: () => string;
/** A file's fingerprint as a build reads it: `size:mtimeMs:ctimeMs:sha256`. */
export declare function fingerprintOf(root: string, file: string): string;
/** Whether a file is as the build that recorded its fingerprint, begun at `builtAt` (ms), read it. */
export declare function isUnchanged(root: string, file: string, fingerprint: string, builtAt: number): boolean;
export declare function inputsUnchanged(root: string, inputs: Record<string, string>, builtAt: number): boolean;
/** A directory of this user's, not a link, that no other user can write to. */
export declare function isPrivateDir(dir: string): boolean;
/** The file URL of the kept bundle if every one of its inputs is unchanged, else undefined. */
export declare function cachedRuntimeBundle(dir?: string): string | undefined;
/** Starts the builder and does not wait for it. */
export declare function rebuildInBackground(dir?: string): void;
/** Forgets the kept bundle (one that failed to load). */
export declare function discardRuntimeBundle(dir?: string): void;
/** An esbuild plugin that takes each input's fingerprint (by absolute path) as it is loaded. */
export declare function fingerprintingLoader(
  fingerprints: Map<string, string>,
  options?: { ownImportMetaUrl?: boolean },
): { name: string; setup(build: import('esbuild').PluginBuild): void };
/** The fingerprints of a build's inputs (its metafile's, relative to `root`), as `fingerprintingLoader` took them. */
export declare function inputFingerprints(root: string, metafile: import('esbuild').Metafile, fingerprints: Map<string, string>): Record<string, string>;
/** The text with each character outside ASCII written as a `\u` escape (a bundle's comments keep theirs). */
export declare const asciiOnly: (text: string) => string;
