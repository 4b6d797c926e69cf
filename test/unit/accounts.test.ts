// Issue 27: which record a link writes, and when the sign-in asks the person to choose the account.
import { describe, expect, it } from 'vitest';
import { accountPrompt, anotherAccountName, cliLinkChoice, linkTarget } from '../../src-main/core/manager/link.js';

const URL_A = 'https://mcp.example.com/mcp';
const servers = [
  { id: 'gh', url: URL_A, name: 'GitHub' },
  { id: 'gh-work', url: URL_A, name: 'GitHub (work)' },
  { id: 'other', url: 'https://other.example.com/mcp', name: 'Other' },
];

describe('linkTarget', () => {
  it('signs in again the account asked for, the first of the URL by default, or a new one', () => {
    expect(linkTarget(servers, URL_A, {})).toEqual({ kind: 'existing', id: 'gh' });
    expect(linkTarget(servers, URL_A, { id: 'gh-work' })).toEqual({ kind: 'existing', id: 'gh-work' });
    expect(linkTarget(servers, URL_A, { account: 'new' })).toEqual({ kind: 'new' });
    expect(linkTarget(servers, 'https://new.example.com/mcp', {})).toEqual({ kind: 'new' });
  });
  it('refuses an id that is not linked, or is linked to another URL', () => {
    expect(() => linkTarget(servers, URL_A, { id: 'nope' })).toThrow(/No linked server "nope"/);
    expect(() => linkTarget(servers, URL_A, { id: 'other' })).toThrow(/linked to https:\/\/other\.example\.com\/mcp/);
  });
});

describe('cliLinkChoice', () => {
  it('reads --name on a linked URL as the account to sign in again, or a new account', () => {
    expect(cliLinkChoice(servers, URL_A, undefined)).toEqual({});
    expect(cliLinkChoice(servers, URL_A, 'GitHub (work)')).toEqual({ id: 'gh-work' });
    expect(cliLinkChoice(servers, URL_A, 'gh')).toEqual({ id: 'gh' });
    expect(cliLinkChoice(servers, URL_A, 'GitHub (home)')).toEqual({ account: 'new' });
    expect(cliLinkChoice(servers, 'https://new.example.com/mcp', 'Anything')).toEqual({});
  });
});

describe('accountPrompt', () => {
  it('asks to choose only with another account of the server, and only where the AS takes it', () => {
    const takes = { prompt_values_supported: ['none', 'login', 'consent', 'select_account'] };
    expect(accountPrompt(takes, 0)).toBeUndefined();
    expect(accountPrompt(takes, 1)).toBe('select_account');
    expect(accountPrompt({ prompt_values_supported: ['none', 'login'] }, 1)).toBeUndefined();
    expect(accountPrompt({}, 2)).toBeUndefined();
    expect(accountPrompt({ prompt_values_supported: 'select_account' }, 1)).toBeUndefined();
  });
});

describe('anotherAccountName', () => {
  it('numbers the accounts when the person named none', () => {
    expect(anotherAccountName('GitHub', ['GitHub'])).toBe('GitHub (2)');
    expect(anotherAccountName('GitHub', ['GitHub', 'GitHub (2)'])).toBe('GitHub (3)');
  });
});
