// `link <url> --grant client-credentials|jwt-bearer` and `link <url> --idp <name>`: the link
// options of grants no person approves at the server. Secrets come from files (never argv).
import { readFile, stat } from 'node:fs/promises';
import type { GrantLinkOptions, Manager, ServerView } from '../core/manager/manager.js';
import { UserError } from '../core/platform/errors.js';
import type { HeaderSpec } from '../core/platform/custom-headers.js';
import { UsageError } from './args.js';

/** Reads a file holding a secret; warns when other users can read it. */
export async function readPrivateFile(path: string, what: string, warn: (line: string) => void): Promise<string> {
  let text: string;
  try {
    const st = await stat(path);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) warn(`Warning: ${path} is readable by other users; consider chmod 600.`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserError('usage', `Cannot read the ${what} file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
  }
  const v = text.trim();
  if (!v) throw new UserError('usage', `The ${what} file ${path} is empty.`);
  return v;
}

/** Whether these parsed link options ask for a machine grant or company sign-in. */
export function wantsGrant(values: Record<string, string>): boolean {
  return values.grant !== undefined || values.idp !== undefined;
}

export async function linkGrantCommand(
  m: Manager,
  url: string,
  values: Record<string, string>,
  extra: { name?: string; scopes?: string[]; headers?: HeaderSpec[] },
  warn: (line: string) => void,
): Promise<ServerView> {
  const g = values.grant;
  if (values.idp !== undefined && g !== undefined) throw new UsageError('Give either --idp or --grant, not both.');
  if (values.dpop !== undefined && values.dpop !== 'off') throw new UsageError('--dpop is not available with --grant or --idp yet: these grants get bearer tokens.');
  if (values.flow !== undefined || values['client-metadata-url'] !== undefined) throw new UsageError('--flow and --client-metadata-url are for sign-in by a person; they do not go with --grant or --idp.');
  let grant: GrantLinkOptions['grant'];
  if (values.idp !== undefined) grant = 'idp';
  else if (g === 'client-credentials') grant = 'client_credentials';
  else if (g === 'jwt-bearer') grant = 'jwt_bearer';
  else throw new UsageError('--grant must be "client-credentials" or "jwt-bearer" (company sign-in is --idp <name>).');
  const clientId = values['client-id'];
  const secretFile = values['client-secret-file'];
  const keyFile = values['client-key-file'];
  const assertionFile = values['assertion-file'];
  if (secretFile !== undefined && keyFile !== undefined) throw new UsageError('Give either --client-secret-file or --client-key-file, not both.');
  if ((secretFile !== undefined || keyFile !== undefined) && !clientId) throw new UsageError(`${secretFile !== undefined ? '--client-secret-file' : '--client-key-file'} needs --client-id.`);
  if (grant === 'client_credentials') {
    if (!clientId) throw new UsageError('--grant client-credentials needs --client-id.');
    if (secretFile === undefined && keyFile === undefined) throw new UsageError('--grant client-credentials needs --client-secret-file or --client-key-file.');
  }
  if (grant === 'jwt_bearer' && assertionFile === undefined) throw new UsageError('--grant jwt-bearer needs --assertion-file.');
  if (grant !== 'jwt_bearer' && assertionFile !== undefined) throw new UsageError('--assertion-file goes with --grant jwt-bearer.');
  if (grant === 'idp' && !clientId) throw new UsageError('--idp needs --client-id (this app\'s client id at the server\'s authorization server).');
  if (grant === 'idp' && keyFile !== undefined) throw new UsageError('--client-key-file goes with --grant client-credentials.');
  return m.linkWithGrant(url, {
    grant,
    ...extra,
    ...(clientId ? { clientId } : {}),
    ...(secretFile !== undefined ? { clientSecret: await readPrivateFile(secretFile, 'client secret', warn) } : {}),
    ...(keyFile !== undefined ? { privateKeyPem: await readPrivateFile(keyFile, 'client key', warn) } : {}),
    ...(assertionFile !== undefined ? { assertionFile } : {}),
    ...(values.idp !== undefined ? { idp: values.idp } : {}),
  });
}
