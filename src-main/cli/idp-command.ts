// `mcp-tokens idp add|list|sign-in|sign-out|remove`: company identity providers (SEP-990).
// One OpenID sign-in per IdP, sealed in the vault and reused for every server that accepts it.
import type { IdpView, Manager } from '../core/manager/manager.js';
import { UsageError } from './args.js';
import { readPrivateFile } from './grant-link.js';

export const IDP_USAGE = `idp add <name> --issuer URL --client-id ID [--client-secret-file F] [--token-endpoint URL] [--id-token-file F] [--no-open]
  idp list | idp sign-in <name> [--id-token-file F] | idp sign-out <name> | idp remove <name>`;

export interface IdpArgs {
  positionals: string[];
  values: Record<string, string>;
  json: boolean;
  open: boolean;
  signal: AbortSignal;
}

function printIdp(v: IdpView, write: (s: string) => void): void {
  const who = v.signedIn ? (v.signedIn.email ?? v.signedIn.displayName ?? v.signedIn.subject) : undefined;
  const lines = [
    `${v.name}`,
    `  Issuer:      ${v.issuer}`,
    `  Client:      ${v.clientId}`,
    `  Status:      ${v.status === 'signed-in' ? `signed in as ${who}` : `needs sign-in${v.detail ? ` — ${v.detail}` : ''}`}`,
  ];
  if (v.signedIn?.idTokenExpiresAt) lines.push(`  ID token:    expires ${new Date(v.signedIn.idTokenExpiresAt).toISOString()}${v.signedIn.hasRefreshToken ? ' (renewed with the IdP\'s refresh token)' : ''}`);
  lines.push(`  Servers:     ${v.servers.join(', ') || '(none yet: mcp-tokens link <url> --idp ' + v.name + ' --client-id ID)'}`);
  write(`${lines.join('\n')}\n`);
}

export async function runIdpCommand(m: Manager, a: IdpArgs, err: (line: string) => void): Promise<number> {
  const [sub, name, ...more] = a.positionals;
  const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
  const write = (s: string) => process.stdout.write(s);
  if (more.length) throw new UsageError(`Too many arguments for "idp ${sub}".`);
  const needName = () => {
    if (!name) throw new UsageError(`"idp ${sub}" needs the identity provider's name.`);
    return name;
  };
  const idTokenFile = a.values['id-token-file'];
  const idToken = idTokenFile !== undefined ? await readPrivateFile(idTokenFile, 'ID token', err) : undefined;
  const opts = { open: a.open, signal: a.signal, ...(a.values.timeout ? { timeoutMs: Number(a.values.timeout) * 1000 } : {}), ...(idToken !== undefined ? { idToken } : {}) };
  switch (sub) {
    case 'add': {
      const n = needName();
      const issuer = a.values.issuer;
      const clientId = a.values['client-id'];
      if (!issuer || !clientId) throw new UsageError('"idp add" needs --issuer URL and --client-id ID.');
      const secretFile = a.values['client-secret-file'];
      const v = await m.addIdp(n, {
        issuer,
        clientId,
        ...(secretFile !== undefined ? { clientSecret: await readPrivateFile(secretFile, 'client secret', err) } : {}),
        ...(a.values['token-endpoint'] ? { tokenEndpoint: a.values['token-endpoint'] } : {}),
        ...opts,
      });
      if (a.json) out(v);
      else printIdp(v, write);
      return 0;
    }
    case 'list': {
      if (name) throw new UsageError('"idp list" takes no name.');
      const list = await m.listIdps();
      if (a.json) out({ idps: list });
      else if (!list.length) err('No company identity providers yet. Add one with `mcp-tokens idp add <name> --issuer URL --client-id ID`.');
      else list.forEach((v, i) => {
        if (i) write('\n');
        printIdp(v, write);
      });
      return 0;
    }
    case 'sign-in': {
      const v = await m.signInIdp(needName(), opts);
      if (a.json) out(v);
      else printIdp(v, write);
      return 0;
    }
    case 'sign-out': {
      const v = await m.signOutIdp(needName());
      if (a.json) out(v);
      else err(`Signed out of ${v.name} here; its servers (${v.servers.join(', ') || 'none'}) need a new sign-in (mcp-tokens idp sign-in ${v.name}).`);
      return 0;
    }
    case 'remove': {
      const r = await m.removeIdp(needName());
      if (a.json) out(r);
      else err(`Removed ${r.name}.${r.servers.length ? ` These servers used it and need another way to sign in: ${r.servers.join(', ')}.` : ''}`);
      return 0;
    }
    default:
      throw new UsageError(`Unknown "idp" command "${sub ?? ''}": use add, list, sign-in, sign-out or remove.`);
  }
}
