// What happened, across all servers, newest first: sign-ins, refreshes, rejections, sign-outs,
// and which client used what. Kept 30 days; never a token.
import { activityLabel, activityTone, formatAgo, formatTime, scrubTokens } from '../view/format.js';
import { ProblemView, Spinner } from './bits.js';
import { useApp, useNow } from './hooks.js';
import { ScreenHeading } from './ScreenHeading.js';

export function ActivityScreen() {
  const activity = useApp((s) => s.activity);
  const load = useApp((s) => s.loadActivity);
  const navigate = useApp((s) => s.navigate);
  const now = useNow(30_000);
  const items = activity.data ?? [];
  return (
    <section aria-labelledby="screen-title">
      <div className="screen-head">
        <ScreenHeading>Activity</ScreenHeading>
        <button type="button" className="btn" onClick={() => void load()} disabled={activity.loading}>
          Refresh list
        </button>
      </div>
      <p className="muted">The last 30 days, newest first. Tokens are never recorded.</p>
      {activity.error ? <ProblemView title="Could not load the activity" message={activity.error.message} hint={activity.error.hint} detail={activity.error.detail} /> : null}
      {!activity.data && activity.loading ? <Spinner label="Loading…" /> : null}
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
