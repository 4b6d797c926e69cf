// Issue 27 item 9: "Found" means the client is installed or its config file exists.
import { describe, expect, it } from 'vitest';
import { clientFound, sharedConfigDirs } from '../../src-main/core/clients/found.js';

const HOME = '/home/pat';
const shared = sharedConfigDirs({}, 'linux', HOME);

describe('clientFound', () => {
  it('is not fooled by a config file that sits in the home folder', () => {
    // Claude Code's ~/.claude.json: the home folder always exists.
    expect(clientFound({ file: `${HOME}/.claude.json`, fileExists: false, dirExists: true, sharedDirs: shared, platform: 'linux' })).toBe(false);
    expect(clientFound({ file: `${HOME}/.claude.json`, fileExists: true, dirExists: true, sharedDirs: shared, platform: 'linux' })).toBe(true);
    // ~/.claude, made by an installed Claude Code, counts.
    expect(clientFound({ file: `${HOME}/.claude.json`, fileExists: false, dirExists: true, sharedDirs: shared, markers: [{ path: `${HOME}/.claude`, exists: true }], platform: 'linux' })).toBe(true);
  });

  it('takes the client’s own folder as installed, but not a shared config root', () => {
    expect(clientFound({ file: `${HOME}/.config/Claude/claude_desktop_config.json`, fileExists: false, dirExists: true, sharedDirs: shared, platform: 'linux' })).toBe(true);
    expect(clientFound({ file: `${HOME}/.config/Claude/claude_desktop_config.json`, fileExists: false, dirExists: false, sharedDirs: shared, platform: 'linux' })).toBe(false);
    expect(clientFound({ file: `${HOME}/.config/some-client.json`, fileExists: false, dirExists: true, sharedDirs: shared, platform: 'linux' })).toBe(false);
  });

  it('knows the shared folders of each platform, case-insensitively where the file system is', () => {
    const mac = sharedConfigDirs({}, 'darwin', '/Users/pat');
    expect(clientFound({ file: '/users/pat/library/application support/x.json', fileExists: false, dirExists: true, sharedDirs: mac, platform: 'darwin' })).toBe(false);
    expect(clientFound({ file: '/Users/pat/Library/Application Support/Claude/claude_desktop_config.json', fileExists: false, dirExists: true, sharedDirs: mac, platform: 'darwin' })).toBe(true);
    const win = sharedConfigDirs({ APPDATA: 'C:\\Users\\pat\\AppData\\Roaming' }, 'win32', 'C:\\Users\\pat');
    expect(clientFound({ file: 'C:\\Users\\pat\\.claude.json', fileExists: false, dirExists: true, sharedDirs: win, platform: 'win32' })).toBe(false);
    expect(clientFound({ file: 'C:\\Users\\pat\\AppData\\Roaming\\Claude\\claude_desktop_config.json', fileExists: false, dirExists: true, sharedDirs: win, platform: 'win32' })).toBe(true);
    expect(sharedConfigDirs({ XDG_CONFIG_HOME: '/xdg' }, 'linux', HOME)).toContain('/xdg');
  });
});
