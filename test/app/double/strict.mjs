// What the double shares: the loud failure for anything it does not mirror, and the registry
// the modules of the double (and the test's control channel) read.

/** Thrown for every Electron feature the double does not mirror: tests must not pass by accident. */
export function notSupported(what) {
  const err = new Error(`not supported by the double: ${what}`);
  err.code = 'ERR_ELECTRON_DOUBLE';
  return err;
}

/**
 * Wraps an object so reading a member it does not have throws instead of giving undefined.
 * `absent` lists members real Electron 41 does not have either, which code may probe for.
 */
export function strict(target, name, absent = []) {
  const missing = new Set(absent);
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === 'symbol' || prop in t) return Reflect.get(t, prop, receiver);
      if (prop === 'then' || prop === 'toJSON' || missing.has(prop)) return undefined;
      throw notSupported(`${name}.${prop}`);
    },
  });
}

/** An Electron-style event: preventDefault() and defaultPrevented. */
export function electronEvent(fields = {}) {
  const ev = { defaultPrevented: false, ...fields };
  ev.preventDefault = () => {
    ev.defaultPrevented = true;
  };
  return ev;
}

export const registry = {
  ready: false,
  /** scheme -> privileges, from protocol.registerSchemesAsPrivileged */
  privileged: new Map(),
  /** scheme -> handler, from protocol.handle */
  protocols: new Map(),
  /** channel -> handler, from ipcMain.handle */
  handlers: new Map(),
  /** every BrowserWindow made, destroyed ones included */
  windows: [],
  trays: [],
  notifications: [],
  openedExternal: [],
  openedPaths: [],
  errorBoxes: [],
  documents: [],
  blocked: [],
  /** failures inside the double itself */
  errors: [],
  secondInstances: [],
  loginItemSettings: { openAtLogin: false },
  badgeCount: 0,
  permissionHandlers: { request: null, check: null },
  /** URLs the app asked session.resolveProxy about */
  proxyQueries: [],
  cdp: null,
  /** set by electron.mjs: emits an app event */
  app: null,
};
