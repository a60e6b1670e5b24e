// The subcommands reach the node's API through the client library (one
// HTTP client in the project); this module picks the address and token and
// turns the library's errors into messages that say what to do.

import { readFileSync } from 'node:fs';
import { DiscoveryClient } from '../client/http.js';
import { DiscoveryError } from '../client/types.js';
import type { Parsed } from './args.js';
import { CtlError, EXIT } from './exit.js';

export const API_OPTIONS = { api: 'value', 'token-file': 'value' } as const;

/** Without --api the client library's default: $PODSWARM_API_URL, else the api plugin's default listen address. */
export function apiClient(p: Parsed): DiscoveryClient {
  const file = p.values.get('token-file');
  return new DiscoveryClient({ url: p.values.get('api'), token: file === undefined ? undefined : readToken(file) });
}

/** As the api plugin reads its `token_file`: the content without surrounding whitespace. */
function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CtlError(EXIT.ERROR, `--token-file: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text === '' || /\s/.test(text)) throw new CtlError(EXIT.USAGE, `--token-file ${file}: expected one token without spaces`);
  return text;
}

/** Runs an API call; a failure becomes a CtlError with the exit status and a hint. */
export async function callApi<T>(client: DiscoveryClient, p: Parsed, call: (c: DiscoveryClient) => Promise<T>): Promise<T> {
  try {
    return await call(client);
  } catch (e) {
    if (!(e instanceof DiscoveryError)) throw e;
    throw explain(e, client.url, p.values.get('token-file'));
  } finally {
    await client.close();
  }
}

function explain(e: DiscoveryError, url: string, tokenFile: string | undefined): CtlError {
  switch (e.status) {
    case 0: {
      const cause = e.message.startsWith(`discovery API ${url}: `) ? e.message.slice(`discovery API ${url}: `.length) : e.message;
      return new CtlError(
        EXIT.ERROR,
        `cannot reach the node's API at ${url} (${cause}). Is podswarm-dns running there with the api plugin? ` +
          `Point --api (or PODSWARM_API_URL) at the address of its \`api { listen ... }\`, e.g. --api http://10.88.0.1:8080`,
      );
    }
    case 400:
      return new CtlError(EXIT.USAGE, e.message);
    case 401:
      return new CtlError(
        EXIT.REFUSED,
        tokenFile === undefined
          ? `the API at ${url} wants its token for this (${e.message}): pass --token-file FILE, the file its api plugin's token_file names`
          : `the API at ${url} refused the token in ${tokenFile} (${e.message}): it is not the one in the api plugin's token_file`,
      );
    case 403:
    case 409:
      return new CtlError(EXIT.REFUSED, e.message);
    case 404:
      return new CtlError(EXIT.NOT_FOUND, e.message);
    default:
      return new CtlError(EXIT.ERROR, `${url}: ${e.message} (HTTP ${e.status})`);
  }
}
