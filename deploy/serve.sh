#!/usr/bin/env bash
# Run the Dagster daemon (schedules, sensors, run queue, run monitoring) and the Dagster
# webserver (the UI) in the foreground against $DAGSTER_HOME, as `make serve` does. The daemon
# runs in the background; when either process exits, or on Ctrl-C / SIGTERM, the other one is
# stopped too and the script exits with the first one's status. For unattended hosts use the
# systemd units in deploy/systemd/ instead (docs/running_unattended.md).
#
#   DAGSTER_HOME=/srv/csp/dagster_home deploy/serve.sh
#
# Environment: DAGSTER_HOME (required; must hold dagster.yaml), VENV_BIN (the venv's bin/,
# default .venv/bin), WORKSPACE (default workspace.yaml), SERVE_HOST / SERVE_PORT (webserver,
# default 127.0.0.1:3000), and the pipeline's CSP_* variables.
set -uo pipefail

: "${DAGSTER_HOME:?set DAGSTER_HOME to the Dagster home (it must contain dagster.yaml)}"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || { echo "serve: $DAGSTER_HOME/dagster.yaml is missing (cp config/dagster.yaml)" >&2; exit 2; }
BIN=${VENV_BIN:-.venv/bin}
WORKSPACE=${WORKSPACE:-workspace.yaml}
HOST=${SERVE_HOST:-127.0.0.1}
PORT=${SERVE_PORT:-3000}
export DAGSTER_HOME

# Each service runs in a process group of its own (setsid), with its code server and the run
# workers it starts: stopping a group ends all of them, even when the service itself died
# (killed with -9, its code server would otherwise linger).
groups=()
stop() {
    trap - INT TERM EXIT
    for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
    # give them time to shut down their code servers, then make sure they are gone
    for _ in $(seq 1 30); do
        alive=0
        for g in "${groups[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && return
        sleep 1
    done
    for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
}
trap 'stop; exit 143' INT TERM
trap stop EXIT

echo "serve: DAGSTER_HOME=$DAGSTER_HOME, UI on http://$HOST:$PORT" >&2
# (a background job of a script is not a group leader, so setsid makes it one without forking:
# $! is the service's pid and its group's id)
setsid "$BIN/dagster-daemon" run -w "$WORKSPACE" &
groups+=($!)
setsid "$BIN/dagster-webserver" -w "$WORKSPACE" -h "$HOST" -p "$PORT" &
groups+=($!)

wait -n   # the first of the two to exit (bash >= 4.3)
status=$?
echo "serve: a process exited (status $status); stopping the other" >&2
exit "$status"
