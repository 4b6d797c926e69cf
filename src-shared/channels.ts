// The contract's channel and event names without zod, for code that is bundled where zod must
// not go (the sandboxed preload, the renderer). The type checks below fail the build when
// contract.ts gains or loses a channel or event that is not mirrored here.
import type { Channel, EventName } from './contract.js';

export const CHANNEL_NAMES = [
  'app/info',
  'servers/list',
  'servers/get',
  'servers/preview',
  'servers/link',
  'servers/cancelLink',
  'servers/refresh',
  'servers/reauthorize',
  'servers/addAccount',
  'servers/revoke',
  'servers/unlink',
  'servers/clientConfig',
  'servers/setHeaders',
  'clients/add',
  'clients/remove',
  'clients/list',
  'activity/list',
  'app/flows',
  'clients/migrationPlan',
  'clients/migrate',
  'consent/answer',
  'settings/get',
  'settings/set',
  'shell/openExternal',
  'network/status',
  'network/test',
  'idp/list',
  'idp/add',
  'idp/signIn',
  'idp/signOut',
  'idp/remove',
  'servers/linkWithIdp',
] as const satisfies readonly Channel[];

export const EVENT_NAMES = ['servers/changed', 'link/progress', 'link/deviceCode', 'link/done', 'consent/request', 'consent/update'] as const satisfies readonly EventName[];

/** The one IPC channel main uses to push events: `send(EVENT_CHANNEL, name, payload)`. */
export const EVENT_CHANNEL = 'event';

type MissingChannel = Exclude<Channel, (typeof CHANNEL_NAMES)[number]>;
type MissingEvent = Exclude<EventName, (typeof EVENT_NAMES)[number]>;
const allChannels: [MissingChannel] extends [never] ? true : MissingChannel = true;
const allEvents: [MissingEvent] extends [never] ? true : MissingEvent = true;
void allChannels;
void allEvents;
