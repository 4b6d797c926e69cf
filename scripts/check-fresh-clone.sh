#!/usr/bin/env bash
# What a newcomer does, checked: clone this repository into a temp directory and run the
# README's two quick-start commands exactly as the README prints them (read from the README's
# first ```sh block, so the two cannot drift). Checks that the install succeeded, that
# `npm start` served the manager UI and it answered within 60 s of the start script starting,
# and that `npm test` passed. Sets no variable the README does not mention.
#
# Usage (Linux, as CI): scripts/check-fresh-clone.sh [--conformance] [--soak]
#   --conformance  then also runs the README's conformance command in the same clone (CI does)
#   --soak         then also runs the 30-second soak (`npm run soak -- --ci`), which exits
#                  non-zero when an invariant breaks (CI does)
# It clones the committed HEAD: uncommitted changes are not checked.
set -euo pipefail

conformance=""
soak=""
for arg in "$@"; do
  case "$arg" in
    --conformance) conformance=1 ;;
    --soak) soak=1 ;;
    *) echo "usage: $0 [--conformance] [--soak]" >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/mcpt-fresh-clone-XXXXXX")"
start_pid=""
t0=$SECONDS

say() { printf '[fresh-clone %4ss] %s\n' "$((SECONDS - t0))" "$*"; }
fail() {
  say "FAILED: $*"
  exit 1
}
stop_start() {
  # npm start runs in its own process group (setsid): end npm, the start script and the UI server together.
  if [ -n "$start_pid" ] && kill -0 "$start_pid" 2>/dev/null; then
    kill -TERM -- "-$start_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$start_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$start_pid" 2>/dev/null || true
  fi
  start_pid=""
}
cleanup() {
  stop_start
  rm -rf "$work"
}
trap cleanup EXIT

git clone --quiet "$repo" "$work/clone"
cd "$work/clone"
say "cloned $(git rev-parse --short HEAD) into $work/clone"

# The README's first ```sh block: its first two commands, trailing comments removed.
mapfile -t cmds < <(awk '/^```sh[[:space:]]*$/ { inside = 1; next } inside && /^```/ { exit } inside && NF && $1 !~ /^#/ { sub(/[[:space:]]+#.*$/, ""); print }' README.md | head -n 2)
start_cmd="${cmds[0]:-}"
test_cmd="${cmds[1]:-}"
[[ "$start_cmd" == *"npm start" ]] || fail "the README's first command is not the one that ends in \`npm start\`: '$start_cmd'"
[[ "$test_cmd" == *"npm test" ]] || fail "the README's second command is not the one that ends in \`npm test\`: '$test_cmd'"
# The conformance command: the README's ```sh line that ends in `npm run test:conformance`.
conf_cmd="$(awk '/^```sh[[:space:]]*$/ { inside = 1; next } inside && /^```/ { inside = 0; next } inside && /npm run test:conformance/ { sub(/[[:space:]]+#.*$/, ""); print; exit }' README.md)"
[ -z "$conformance" ] || [ -n "$conf_cmd" ] || fail "the README shows no command that runs \`npm run test:conformance\`"

# --- 1. npm start ------------------------------------------------------------------------
# The UI keeps its data in a temp dir instead of this machine's real app-data directory, and
# runs as on a machine without a display (as CI is), so it is the UI this script can probe.
say "running the README's first command: $start_cmd"
export MCP_TOKENS_HOME="$work/data"
setsid env -u DISPLAY -u WAYLAND_DISPLAY bash -c "$start_cmd" >"$work/start.log" 2>&1 </dev/null &
start_pid=$!

# npm ci first (bounded, since it fetches from the registry), then 60 s for the UI from the
# moment npm runs the start script (it builds, then starts the app or `mcp-tokens ui`).
started=""
for _ in $(seq 1 1800); do
  if grep -q '^> .* start$' "$work/start.log"; then started=$SECONDS; break; fi
  kill -0 "$start_pid" 2>/dev/null || { tail -n 40 "$work/start.log"; fail "\`$start_cmd\` ended before npm start ran: the install failed"; }
  sleep 0.5
done
[ -n "$started" ] || { tail -n 40 "$work/start.log"; fail "the install in \`$start_cmd\` did not finish in 15 min"; }
say "install succeeded; npm start is running"

url=""
while [ $((SECONDS - started)) -lt 60 ]; do
  url="$(sed -n 's/^MCP Token Manager UI: \(http[^ ]*\).*/\1/p' "$work/start.log" | head -n 1)"
  [ -n "$url" ] && break
  kill -0 "$start_pid" 2>/dev/null || { tail -n 40 "$work/start.log"; fail "npm start exited without serving the UI"; }
  sleep 0.5
done
[ -n "$url" ] || { tail -n 40 "$work/start.log"; fail "npm start printed no UI address within 60 s"; }
grep -m1 '^MCP Token Manager: ' "$work/start.log" || true # the one-line reason it fell back, if it did

# The link the person opens: the key becomes a cookie, the page loads, and the manager answers.
left=$((60 - (SECONDS - started)))
[ "$left" -gt 0 ] || left=1
node --input-type=module - "$url" "$left" <<'EOF' || { tail -n 40 "$work/start.log"; fail "the UI at its address did not answer as the manager UI"; }
const [url, left] = process.argv.slice(2);
const signal = AbortSignal.timeout(Number(left) * 1000);
const origin = new URL(url).origin;
// The one-shot launch link sets the session cookie and sends the browser to the UI's path.
const launch = await fetch(url, { redirect: 'manual', signal });
const cookie = (launch.headers.get('set-cookie') ?? '').split(';')[0];
const base = launch.headers.get('location');
if (launch.status !== 303 || !cookie || !base) throw new Error(`the link answered ${launch.status}, without a session`);
const page = await fetch(new URL(base, origin), { headers: { cookie }, signal });
const html = await page.text();
if (page.status !== 200 || !html.includes('<title>MCP Token Manager</title>')) throw new Error(`the page answered ${page.status}`);
// API calls carry the token the page reads from its own HTML, as the renderer does.
const token = /<meta name="mcp-tokens-session" content="([^"]+)"/.exec(html)?.[1];
if (!token) throw new Error('the page carries no session token');
const api = await fetch(new URL('api/call/servers/list', new URL(base, origin)), {
  method: 'POST',
  headers: { cookie, origin, 'content-type': 'application/json', 'x-mcp-tokens-session': token },
  body: '{"args":[]}',
  signal,
});
const body = await api.json();
if (api.status !== 200 || body.ok !== true || !Array.isArray(body.result)) throw new Error(`servers/list answered ${api.status}: ${JSON.stringify(body)}`);
console.log(`UI answered at ${origin}: the page, and servers/list (${body.result.length} servers)`);
EOF
say "npm start served the UI, which answered $((SECONDS - started)) s after the start script began"
stop_start
unset MCP_TOKENS_HOME

# --- 2. npm test -------------------------------------------------------------------------
say "running the README's second command: $test_cmd"
bash -c "$test_cmd" </dev/null || fail "\`$test_cmd\` failed"
say "npm test passed"

if [ -n "$conformance" ]; then
  say "running the README's conformance command: $conf_cmd"
  bash -c "$conf_cmd" </dev/null || fail "\`$conf_cmd\` failed"
fi
if [ -n "$soak" ]; then
  say "running the 30-second soak: npm run soak -- --ci"
  npm run soak -- --ci </dev/null || fail "the soak broke an invariant (its figures are above)"
fi
say "passed: install, npm start (UI answered), npm test${conformance:+, conformance}${soak:+, soak} in $((SECONDS - t0)) s"
