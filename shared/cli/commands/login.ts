/** `hookline login`: checks a base URL and tenant key against the API, then saves them (0600). */
import { homedir } from 'node:os';
import { sep } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseCommand } from '../args.ts';
import { ApiClient, WEBHOOKS_PATH } from '../client.ts';
import type { Command } from '../command.ts';
import { normalizeBaseUrl, saveConfig } from '../config.ts';
import { ApiError, CliError, ConfigError, UsageError } from '../errors.ts';
import { readStream } from '../input.ts';
import { printJson, printLine, type Io } from '../output.ts';

const usage = `Usage: hookline login [--url <base URL>] [--key <tenant key>] [--json]

Checks the base URL and tenant API key against the API and saves them for the other commands,
in a file only you can read (mode 0600): $HOOKLINE_CONFIG, else
$XDG_CONFIG_HOME/hookline/config.json, else ~/.config/hookline/config.json.

Whatever is not given as an option is asked for on a terminal (the key without echo); when
stdin is not a terminal, the key is read from it, so it stays out of the shell history:

  echo "$KEY" | hookline login --url http://127.0.0.1:3000

Options:
  --url <url>   base URL of the API (what \`npm start\` prints)
  --key <key>   tenant API key (visible to other users in the process list: prefer stdin)
  --json        print {"url", "config"} instead of a sentence`;

export const login: Command = {
  name: 'login',
  summary: 'save the base URL and API key to use',
  usage,
  run: async (argv, ctx) => {
    const { values } = parseCommand(argv, { usage, options: { url: { type: 'string' }, key: { type: 'string' } } });
    const { io } = ctx;
    const given = values.url ?? (await prompt(io, 'Base URL (e.g. http://127.0.0.1:3000): ', false));
    let url: string;
    try {
      url = normalizeBaseUrl(given);
    } catch (error) {
      // A URL given on the command line that cannot be one: the command line's fault (exit 2).
      if (error instanceof ConfigError) throw new UsageError(error.message, usage);
      throw error;
    }
    let key = values.key;
    if (key === undefined) key = io.stdin.isTTY ? await prompt(io, 'API key: ', true) : (await readStream(io.stdin)).toString('utf8');
    key = key.trim();
    if (key === '') throw new UsageError('no API key given', usage);

    // One cheap authenticated read proves both the URL and the key before anything is saved.
    try {
      await new ApiClient(url, key).get(`${WEBHOOKS_PATH}?per_page=1`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw new CliError(`${url} refused the key (401): nothing saved`, { cause: error });
      throw error;
    }
    await saveConfig(ctx.configPath, { url, key });
    if (values.json) printJson(io, { url, config: ctx.configPath });
    else printLine(io, `Logged in to ${url}. Saved to ${homeRelative(ctx.configPath)} (mode 0600).`);
    return 0;
  },
};

/** `/home/me/.config/x` -> `~/.config/x`: shorter, and no user name in pasted output. */
const homeRelative = (path: string): string => {
  const home = homedir();
  return path.startsWith(home + sep) ? `~${path.slice(home.length)}` : path;
};

/** One line from the terminal; `hidden` does not echo what is typed. */
async function prompt(io: Io, question: string, hidden: boolean): Promise<string> {
  if (!io.stdin.isTTY) throw new UsageError(hidden ? 'no --key given' : 'no --url given', usage);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: io.stdin, output: hidden ? muted : io.stderr, terminal: true });
  try {
    if (hidden) io.stderr.write(question);
    const answer = await rl.question(hidden ? '' : question);
    if (hidden) io.stderr.write('\n');
    return answer;
  } finally {
    rl.close();
  }
}
