// The window: navigation, the current screen, sign-ins in progress and consent requests.
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { parseRoute, routeHash, sameView } from './route.js';
import type { View } from './store.js';
import { needingAttention } from './view/format.js';
import { NoticeView, ProblemView } from './components/bits.js';
import { ActivityScreen } from './components/ActivityScreen.js';
import { AddScreen } from './components/AddScreen.js';
import { ClientsScreen } from './components/ClientsScreen.js';
import { BackgroundFlows } from './components/BackgroundFlows.js';
import { ConsentModal } from './components/ConsentModal.js';
import { DetailScreen } from './components/DetailScreen.js';
import { MigrateScreen } from './components/MigrateScreen.js';
import { useApp, useAppStore, useNow } from './components/hooks.js';
import { ServersScreen } from './components/ServersScreen.js';
import { SettingsScreen } from './components/SettingsScreen.js';

const NAV: { view: View; label: string }[] = [
  { view: { name: 'servers' }, label: 'Servers' },
  { view: { name: 'clients' }, label: 'Clients' },
  { view: { name: 'activity' }, label: 'Activity' },
  { view: { name: 'add' }, label: 'Add a server' },
  { view: { name: 'settings' }, label: 'Settings' },
];

function Nav() {
  const view = useApp((s) => s.view);
  const navigate = useApp((s) => s.navigate);
  const servers = useApp(useShallow((s) => s.servers));
  const now = useNow(30_000);
  const attention = needingAttention(servers, now).length;
  return (
    <nav aria-label="Main">
      <ul className="nav">
        {NAV.map((item) => {
          const current = view.name === item.view.name || (item.view.name === 'servers' && (view.name === 'detail' || view.name === 'migrate'));
          return (
            <li key={item.label}>
              <button type="button" className="nav-item" aria-current={current ? 'page' : undefined} onClick={() => navigate(item.view)}>
                {item.label}
                {item.view.name === 'servers' && attention > 0 ? (
                  <span className="badge" aria-label={`${attention} need attention`}>
                    {attention}
                  </span>
                ) : null}
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function Screen() {
  const view = useApp((s) => s.view);
  switch (view.name) {
    case 'servers':
      return <ServersScreen />;
    case 'add':
      return <AddScreen />;
    case 'detail':
      return <DetailScreen key={view.id} id={view.id} />;
    case 'settings':
      return <SettingsScreen />;
    case 'migrate':
      return <MigrateScreen />;
    case 'clients':
      return <ClientsScreen />;
    case 'activity':
      return <ActivityScreen />;
  }
}

export function App() {
  const store = useAppStore();
  const loadError = useApp((s) => s.loadError);
  const notice = useApp((s) => s.notice);
  const clearNotice = useApp((s) => s.clearNotice);
  const reload = useApp((s) => s.reload);

  useEffect(() => store.getState().init(), [store]);
  useEffect(() => {
    // Main opens screens by hash (tray, notifications, a link handed to the app); the address
    // bar and Back follow the screen on show.
    const follow = () => {
      const r = parseRoute(window.location.hash);
      const st = store.getState();
      if (!sameView(st.view, r.view)) st.navigate(r.view);
      if (r.addUrl) {
        const a = store.getState().add;
        // A hand-over starts discovery (no side effects); approving stays with the person.
        if (a.stage !== 'previewing' && a.stage !== 'linking') void store.getState().preview({ url: r.addUrl });
        window.history.replaceState(null, '', routeHash(r.view));
      }
    };
    follow();
    const unsub = store.subscribe((s, prev) => {
      if (s.view !== prev.view && window.location.hash !== routeHash(s.view)) window.location.hash = routeHash(s.view);
    });
    window.addEventListener('hashchange', follow);
    return () => {
      unsub();
      window.removeEventListener('hashchange', follow);
    };
  }, [store]);
  useEffect(() => {
    // Events may have been missed while the window was hidden or the connection dropped.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void store.getState().reload();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [store]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <h1 className="app-title">MCP Token Manager</h1>
        <Nav />
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {loadError ? (
          <div className="load-error">
            <ProblemView title="Could not load" message={loadError.message} hint={loadError.hint} detail={loadError.detail} />
            <button type="button" className="btn" onClick={() => void reload()}>
              Try again
            </button>
          </div>
        ) : null}
        {notice ? <NoticeView notice={notice} onClose={() => clearNotice()} /> : null}
        <BackgroundFlows />
        <Screen />
      </main>
      <ConsentModal />
    </div>
  );
}
