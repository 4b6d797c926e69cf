import { describe, expect, it } from 'vitest';
import { bearerParams, parseWwwAuthenticate } from '../../src-main/core/oauth/challenge.js';

describe('parseWwwAuthenticate', () => {
  it('reads quoted and token params of a Bearer challenge', () => {
    const p = bearerParams('Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp", scope="a b", error=invalid_token');
    expect(p).toEqual({
      resource_metadata: 'https://a.example/.well-known/oauth-protected-resource/mcp',
      scope: 'a b',
      error: 'invalid_token',
    });
  });
  it('separates several challenges and keeps escaped quotes', () => {
    const cs = parseWwwAuthenticate('Basic realm="x, y", Bearer realm="q\\"t", authorization_uri="https://as.example"');
    expect(cs.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(cs[0]!.params.realm).toBe('x, y');
    expect(cs[1]!.params).toEqual({ realm: 'q"t', authorization_uri: 'https://as.example' });
  });
  it('is case-insensitive on scheme and param names', () => {
    expect(bearerParams('BEARER Scope="s1"')).toEqual({ scope: 's1' });
  });
  it('returns nothing for junk, and terminates', () => {
    expect(bearerParams('')).toEqual({});
    expect(bearerParams('===,,,"')).toEqual({});
    expect(parseWwwAuthenticate('Bearer "unterminated').length).toBe(1);
  });
});
