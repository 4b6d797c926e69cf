// Getting a token for a grant no person approves, at link time and at every renewal: client
// credentials, a workload's assertion file (re-read every time: platforms rotate it), or
// company sign-in (the IdP's ID token exchanged for an ID-JAG, then the JWT bearer grant).
import { readFile, stat } from 'node:fs/promises';
import * as grants from '../oauth/grants.js';
import { OAuthWireError, type TokenResult } from '../oauth/oauth.js';
import { UserError } from '../platform/errors.js';
import { defaultRedactor } from '../platform/redact.js';
import type { AsMetadata, ClientRecord, GrantKind, VaultData } from '../types.js';
import type { ManagerContext } from './context.js';
import { idTokenFor } from './idp.js';

/** An assertion file larger than this is not a JWT. */
const MAX_ASSERTION_BYTES = 64 * 1024;

/** What a token request for a machine grant needs, read from the vault (secrets included: broker-only). */
export interface MachinePlan {
  kind: Exclude<GrantKind, 'authorization_code'>;
  as: AsMetadata;
  auth: grants.MachineAuth;
  resource: string;
  scopes: string[];
  assertionFile?: string;
  idp?: string;
}

/** The client authentication stored for a machine grant. */
export function authFromVault(data: VaultData, client: ClientRecord | undefined): grants.MachineAuth {
  if (!client || !client.clientId) return { method: 'anonymous' };
  const sec = data.secrets.clients[client.key];
  const m = client.tokenEndpointAuthMethod;
  if (m === 'private_key_jwt') {
    if (!sec?.privateKeyPem) throw new UserError('vault', `The private key of client ${client.clientId} is missing from the vault.`, 'Link the server again with --client-key-file.');
    return { method: 'private_key_jwt', clientId: client.clientId, privateKeyPem: sec.privateKeyPem };
  }
  if (m === 'client_secret_basic' || m === 'client_secret_post') {
    if (!sec?.clientSecret) throw new UserError('vault', `The secret of client ${client.clientId} is missing from the vault.`, 'Link the server again with --client-secret-file.');
    return { method: m, clientId: client.clientId, secret: sec.clientSecret };
  }
  return { method: 'none', clientId: client.clientId };
}

/** Reads a workload's assertion (a JWT the platform writes and rotates); the content is a secret. */
export async function readAssertion(path: string): Promise<string> {
  let text: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    if (st.size > MAX_ASSERTION_BYTES) throw new UserError('usage', `The assertion file ${path} is larger than ${MAX_ASSERTION_BYTES} bytes; it is not a JWT.`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError('usage', `Cannot read the assertion file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, 'The workload platform writes this file; check that it is there and readable by this user.');
  }
  const assertion = text.trim();
  if (!assertion) throw new UserError('usage', `The assertion file ${path} is empty.`, 'The workload platform writes this file; check that it has written a token.');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(assertion)) {
    throw new UserError('usage', `The assertion file ${path} does not hold a JWT.`, 'Point --assertion-file at the workload identity token the platform writes (a JWT).');
  }
  defaultRedactor.add(assertion);
  return assertion;
}

/** One token for a machine grant: the token-endpoint calls its kind needs, in order. */
export async function obtain(ctx: ManagerContext, p: MachinePlan): Promise<TokenResult> {
  const config = await grants.machineConfig(p.as, p.auth);
  const target = { resource: p.resource, ...(p.scopes.length ? { scopes: p.scopes } : {}) };
  switch (p.kind) {
    case 'client_credentials':
      try {
        return await grants.clientCredentials(config, target);
      } catch (e) {
        throw e instanceof OAuthWireError ? grants.reword(e, 'The authorization server refused the client credentials', 'Check the client id and its secret or key.') : e;
      }
    case 'jwt_bearer': {
      if (!p.assertionFile) throw new UserError('vault', 'The assertion file of this workload grant is not recorded.', 'Link the server again with --assertion-file.');
      try {
        return await grants.jwtBearer(config, await readAssertion(p.assertionFile), target, 'presenting the workload assertion');
      } catch (e) {
        throw e instanceof OAuthWireError ? grants.reword(e, 'The authorization server refused the workload assertion', 'Check that the platform still writes a fresh token to the assertion file, for this authorization server as audience.') : e;
      }
    }
    case 'idp': {
      if (!p.idp) throw new UserError('vault', 'The company identity provider of this grant is not recorded.', 'Link the server again with --idp.');
      const idJag = await idTokenFor(ctx, p.idp, (idToken, idpConfig) => grants.exchangeForIdJag(idpConfig, idToken, { audience: p.as.issuer, ...target }));
      defaultRedactor.add(idJag);
      try {
        return await grants.jwtBearer(config, idJag, target, 'presenting the grant from your company sign-in');
      } catch (e) {
        throw e instanceof OAuthWireError ? grants.reword(e, `The server's authorization server refused the grant from your company sign-in through ${p.idp}`, 'Ask the server\'s operator whether it trusts your company\'s sign-in for this app (and this client id).') : e;
      }
    }
  }
}
