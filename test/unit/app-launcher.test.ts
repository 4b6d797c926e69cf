import { describe, expect, it } from 'vitest';
import { brokerToStart, parseAppLauncher } from '../../src-main/core/app-model/app-launcher.js';

describe('which broker a bridge starts', () => {
  it('starts the daemon for a headless vault', () => {
    expect(brokerToStart({ appSealed: false, launcher: { command: '/opt/app', args: [] } })).toEqual({ kind: 'daemon' });
  });
  it('starts the app for a vault only the app can unseal', () => {
    expect(brokerToStart({ appSealed: true, launcher: { command: '/opt/app', args: ['--x'] } })).toEqual({ kind: 'app', launcher: { command: '/opt/app', args: ['--x'] } });
  });
  it('says what to do when the app sealed the vault but left no launcher', () => {
    const r = brokerToStart({ appSealed: true, launcher: undefined });
    expect(r).toMatchObject({ kind: 'none' });
    expect((r as { why: string }).why).toMatch(/Start the app/);
  });
  it('accepts only a well-formed launcher record', () => {
    expect(parseAppLauncher('{"command":"/opt/app","args":[]}')).toEqual({ command: '/opt/app', args: [] });
    expect(parseAppLauncher('not json')).toBeUndefined();
    expect(parseAppLauncher('{"command":"","args":[]}')).toBeUndefined();
    expect(parseAppLauncher('{"command":"/x","args":[],"env":{"A":"b"}}')).toBeUndefined();
    expect(parseAppLauncher(undefined)).toBeUndefined();
  });
});
