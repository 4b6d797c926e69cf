// The top of a screen whose list is loaded from main on demand (Clients, Activity): the title,
// a button to load it again, a line saying what the list is, then the load's error or spinner.
import type { Loadable } from '../store.js';
import { ProblemView, Spinner } from './bits.js';
import { ScreenHeading } from './ScreenHeading.js';

const TEXT = {
  activity: { title: 'Activity', reload: 'Refresh list', intro: 'The last 30 days, newest first. Tokens are never recorded.', error: 'Could not load the activity', loading: 'Loading…' },
  clients: { title: 'Clients', reload: 'Check again', intro: 'The MCP clients on this machine, and the servers each one uses through MCP Token Manager.', error: 'Could not read the client configs', loading: 'Looking for MCP clients…' },
} as const;

export function LoadedListHead({ screen, list, onReload }: { screen: keyof typeof TEXT; list: Loadable<unknown>; onReload: () => void }) {
  const t = TEXT[screen];
  return (
    <>
      <div className="screen-head">
        <ScreenHeading>{t.title}</ScreenHeading>
        <button type="button" className="btn" onClick={onReload} disabled={list.loading}>
          {t.reload}
        </button>
      </div>
      <p className="muted">{t.intro}</p>
      {list.error ? <ProblemView title={t.error} message={list.error.message} hint={list.error.hint} detail={list.error.detail} /> : null}
      {!list.data && list.loading ? <Spinner label={t.loading} /> : null}
    </>
  );
}
