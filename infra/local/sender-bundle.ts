import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../shared/adapters/http/sender-thread.ts', import.meta.url));

/**
 * The sender thread's code as one CommonJS script (about 14 KB), bundled with esbuild (the
 * stack's bundler, a dependency already) in about 40 ms: a thread that loads the TypeScript
 * sources instead starts Node's type stripper and the module graph again, about 35 MB more of the
 * runtime's memory. Undefined when esbuild cannot be loaded or fails: the thread then loads the sources.
 */
export async function bundleSenderThread(onError: (error: unknown) => void): Promise<string | undefined> {
  try {
    const esbuild = await import('esbuild');
    try {
      const result = await esbuild.build({ entryPoints: [ENTRY], bundle: true, platform: 'node', format: 'cjs', target: 'node24', write: false, logLevel: 'silent' });
      return result.outputFiles[0]?.text;
    } finally {
      // esbuild's service is a child process: not kept for the runtime's life.
      esbuild.stop();
    }
  } catch (error) {
    onError(error);
    return undefined;
  }
}
