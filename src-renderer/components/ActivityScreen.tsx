// What happened, across all servers, newest first: sign-ins, refreshes, rejections, sign-outs,
// and which client used what. Kept 30 days; never a token.
import { activityLabel, activityTone, formatAgo, formatTime, scrubTokens } from '../view/format.js';
import { useApp, useNow } from './hooks.js';
import { LoadedListHead } from './LoadedListHead.js';

export function ActivityScreen() {
  const activity = useApp((s) => s.activity);
  const load = useApp((s) => s.loadActivity);
  const navigate = useApp((s) => s.navigate);
  const now = useNow(30_000);
  const items = activity.data ?? [];
  return (
    <section aria-labelledby="screen-title">
      <LoadedListHead screen="activity" list={activity} onReload={() => void load()} />
      {activity.data && !items.length ? <p className="muted">Nothing yet.</p> : null}
      {items.length ? (
        <ol className="card activity activity-all" aria-label="Activity, newest first">
          {items.map((e, i) => (
            <li key={`${e.serverId}-${e.at}-${i}`} className={`activity-${activityTone(e.kind)}`}>
              <time dateTime={new Date(e.at).toISOString()} title={formatTime(e.at)}>
                {formatAgo(e.at, now)}
              </time>
              <span className="activity-kind">{activityLabel(e.kind)}</span>
              <button type="button" className="link-button" onClick={() => navigate({ name: 'detail', id: e.serverId })}>
                {e.serverName}
              </button>
              {e.client ? <span className="activity-client">by {e.client}</span> : null}
              {e.detail ? <span className="activity-detail">{scrubTokens(e.detail)}</span> : null}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
