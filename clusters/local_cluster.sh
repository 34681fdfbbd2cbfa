#!/usr/bin/env bash
# A Ray cluster of several nodes on this one machine, for tests and demos (see --help).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")

usage() {
    cat <<EOF
Usage: clusters/local_cluster.sh start|stop|status [options]

  start   start a head node and NODES-1 more nodes on this machine, all from this repo's
          Python environment (nothing is installed); print the cluster address and the
          dashboard URL. Node i gets the custom resource {"node_i": 1} (head: node_0).
          Every port of every node listens on 127.0.0.1 only: the cluster is reachable
          from this machine alone ('start' checks it, and fails if a port is exposed).
  stop    stop exactly the processes 'start' started (their pids are in the state file):
          SIGTERM, then SIGKILL after --stop-timeout seconds. Never touches other Ray
          instances on the machine (unlike 'ray stop').
  status  say which of those processes are alive; with a live head, print 'ray status'.

Options:
  --nodes N            nodes including the head (default 3)
  --temp-dir D         Ray temp root and state folder (default /tmp/actorflow-cluster); node i
                       uses D/node_i, the state file is D/cluster.env. Keep it short: Unix
                       socket paths under it are limited to 107 characters.
  --num-cpus C         logical CPUs each node advertises (default 2)
  --object-store-mb M  object store per node in MiB (default 100; Ray's minimum is 75)
  --timeout S          seconds to wait for the cluster to come up (default 120)
  --stop-timeout S     seconds between SIGTERM and SIGKILL on stop (default 20)
  --auth MODE          Ray token authentication, token or disabled (default: \$RAY_AUTH_MODE,
                       else disabled). Every node gets the same mode: Ray 2.60 would turn it on
                       for the head alone when ~/.ray/auth_token exists, and nodes could not
                       join. With token, drivers need RAY_AUTH_MODE=token and the token
                       (~/.ray/auth_token, created by 'start' when missing); with disabled,
                       every user of this machine can run code as you on the cluster: use
                       it only on a machine you do not share.

Drivers: the nodes listen on loopback, but Ray rewrites a driver's 127.0.0.1 address to this
machine's external one unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 is in its environment (jobs
submitted to the cluster get it from the nodes; actorflow's ensure_ray, which the experiments
use, sets it itself for loopback addresses). 'start' prints the variables drivers need:
  env RAY_AUTH_MODE=disabled RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 ray status --address <address>

Python: \$ACTORFLOW_PYTHON, else the active virtualenv, else $REPO/.venv/bin/python.
Its bin folder goes first on the nodes' PATH, so 'python' in a submitted job is that Python.
The nodes inherit this shell's environment: export ACTORFLOW_DATA_DIR (the folder holding
mnist/) before 'start' so that actors and jobs find the data.

State file (shell syntax): ADDRESS=host:port, DASHBOARD_URL=http://host:port, NODES=N,
TEMP_DIR=D, AUTH_MODE=token|disabled, PIDS="pid_0 pid_1 ..." (one 'ray start --block' per
node, each in its own session; 'stop' signals each pid and every process left in its session).
Each node runs 'ray start' through clusters/ray_loopback.py, which keeps its address on
127.0.0.1 (plain 'ray start' would turn --node-ip-address 127.0.0.1 into the external one).
Node logs: D/node_i.log ('ray start' output) and D/node_i/session_latest/logs/.

Several nodes on one machine: every node needs its own --temp-dir, and every port Ray
fixes by default must differ between nodes and from other Ray instances here: --port (GCS,
6379), --dashboard-port (8265), --ray-client-server-port (10001),
--dashboard-agent-listen-port (52365, one per node), --min/--max-worker-port (10002-19999).
This script draws free ones (clusters/free_ports.py) and also fixes --node-manager-port and
--object-manager-port. A plain ray.init() elsewhere on this machine still starts a private
instance: the address file is written under D, not /tmp/ray, and RAY_ADDRESS is not exported
(ray.init(address="auto") would find this cluster; address="local" never does).

A real multi-machine cluster instead (same Python version and Ray version everywhere). Its
ports listen on the network, so token authentication stays on: every node and every driver
needs RAY_AUTH_MODE=token and the same token. Opt out only by name, RAY_AUTH_MODE=disabled,
on a private network you trust (anyone who reaches a port can then run code on every node).
  on every machine:  git clone <repo> actorflow && cd actorflow
                     python3.11 -m venv .venv && . .venv/bin/activate
                     pip install -e ".[ray]"
                     export ACTORFLOW_DATA_DIR=/path/to/datasets
                     export RAY_AUTH_MODE=token
  on the head:       ray get-auth-token --generate     # writes ~/.ray/auth_token
                     then copy ~/.ray/auth_token to every other machine and driver
                     (same path, mode 600), or export RAY_AUTH_TOKEN=<token> there
                     ray start --head --port 6379 --dashboard-host 0.0.0.0 \\
                         --resources '{"node_0": 1}'
  on machine i >= 1: ray start --address <head-ip>:6379 --resources '{"node_i": 1}'
  drivers:           python experiments/mnist_distributed.py --address <head-ip>:6379
  jobs:              ray job submit --address http://<head-ip>:8265 --working-dir . -- ...
EOF
}

die() { echo "local_cluster: $*" >&2; exit 1; }

pick_python() {
    if [[ -n ${ACTORFLOW_PYTHON:-} ]]; then
        echo "$ACTORFLOW_PYTHON"
    elif [[ -n ${VIRTUAL_ENV:-} && -x $VIRTUAL_ENV/bin/python ]]; then
        echo "$VIRTUAL_ENV/bin/python"
    elif [[ -x $REPO/.venv/bin/python ]]; then
        echo "$REPO/.venv/bin/python"
    else
        die "no Python with Ray found: set ACTORFLOW_PYTHON or create $REPO/.venv"
    fi
}

# ---------------------------------------------------------------- options
CMD=${1:-}
[[ $CMD == -h || $CMD == --help ]] && { usage; exit 0; }
[[ $CMD == start || $CMD == stop || $CMD == status ]] || { usage >&2; exit 2; }
shift
NODES=3
TEMP_DIR=/tmp/actorflow-cluster
NUM_CPUS=2
OBJECT_STORE_MB=100
TIMEOUT=120
STOP_TIMEOUT=20
AUTH=${RAY_AUTH_MODE:-disabled}
while (($#)); do
    case $1 in
        --nodes) NODES=${2:?}; shift 2 ;;
        --temp-dir) TEMP_DIR=${2:?}; shift 2 ;;
        --num-cpus) NUM_CPUS=${2:?}; shift 2 ;;
        --object-store-mb) OBJECT_STORE_MB=${2:?}; shift 2 ;;
        --timeout) TIMEOUT=${2:?}; shift 2 ;;
        --stop-timeout) STOP_TIMEOUT=${2:?}; shift 2 ;;
        --auth) AUTH=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
for v in NODES NUM_CPUS OBJECT_STORE_MB TIMEOUT STOP_TIMEOUT; do
    flag=${v,,}
    [[ ${!v} =~ ^[0-9]+$ ]] || die "--${flag//_/-} must be a whole number, got '${!v}'"
done
AUTH=${AUTH,,}
[[ $AUTH == token || $AUTH == disabled ]] || die "--auth must be token or disabled"
((NODES >= 1)) || die "--nodes must be at least 1"
((OBJECT_STORE_MB >= 75)) || die "--object-store-mb must be at least 75 (Ray's minimum)"
TEMP_DIR=$(realpath -m -- "$TEMP_DIR")
STATE=$TEMP_DIR/cluster.env

# ---------------------------------------------------------------- process helpers
# A node is named "pid:start": the pid of its 'ray start --block' and that process's start time
# (clock ticks after boot, field 22 of /proc/PID/stat), so a reused pid is never taken for it.
alive() { kill -0 "$1" 2>/dev/null; }

start_time() {  # of pid $1; empty when there is no such process
    local stat
    local -a fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    read -r -a fields <<<"${stat##*) }"  # the fields after the command name, from field 3 on
    echo "${fields[19]}"
}

is_ours() { [[ $(start_time "${1%%:*}") == "${1#*:}" ]]; }  # $1: pid:start

# Live processes of node $1 (pid:start): every process in the session its 'ray start' leads
# (gcs_server, raylet, dashboard, agents, workers; orphans too). The kernel never reuses a pid
# that still names a session, so these are ours unless the pid now belongs to a new process.
node_processes() {
    local pid=${1%%:*} now
    now=$(start_time "$pid")
    if [[ -n $now && $now != "${1#*:}" ]]; then
        return 0
    fi
    ps -e -o pid=,sid=,stat= | awk -v s="$pid" '$2 == s && $3 !~ /^Z/ { print $1 }'
}

all_processes() {  # $@: nodes
    local node
    for node in "$@"; do node_processes "$node"; done | tr '\n' ' '
}

write_state() {  # $@: the nodes started so far; atomic, so 'stop' always reads a whole file
    cat >"$STATE.tmp" <<EOF
ADDRESS=$ADDRESS
DASHBOARD_URL=$DASHBOARD_URL
NODES=$NODES
TEMP_DIR=$TEMP_DIR
AUTH_MODE=$RAY_AUTH_MODE
PIDS="${*%%:*}"
STARTS="${*#*:}"
EOF
    mv "$STATE.tmp" "$STATE"
}

read_state() {  # the state file's variables, and STATE_NODES: pid:start per node
    PIDS="" STARTS="" AUTH_MODE=disabled ADDRESS="" DASHBOARD_URL=""
    # shellcheck disable=SC1090  # the state file is written by this script
    source "$STATE"
    local -a p s
    local i
    read -r -a p <<<"$PIDS"
    read -r -a s <<<"$STARTS"
    STATE_NODES=()
    for i in "${!p[@]}"; do STATE_NODES+=("${p[i]}:${s[i]:-}"); done
}

wait_gone() {  # $1 seconds, then nodes: until none of their processes is left (REMAINING)
    local deadline=$((SECONDS + $1))
    shift
    REMAINING=$(all_processes "$@")
    while [[ -n ${REMAINING// /} ]] && ((SECONDS < deadline)); do
        sleep 0.5
        REMAINING=$(all_processes "$@")
    done
    [[ -z ${REMAINING// /} ]]
}

stop_nodes() {  # $@: nodes; SIGTERM (workers first, the head last), SIGKILL what is left
    local node i
    local -a order=()
    for ((i = $#; i >= 1; i--)); do order+=("${!i}"); done
    for node in "${order[@]}"; do
        if alive "${node%%:*}" && is_ours "$node"; then
            kill -TERM "${node%%:*}" 2>/dev/null || true  # 'ray start --block' stops its node
        else  # its 'ray start' is gone: signal what it left behind
            # shellcheck disable=SC2046  # one word per pid
            kill -TERM $(node_processes "$node") 2>/dev/null || true
        fi
    done
    wait_gone "$STOP_TIMEOUT" "${order[@]}" && return 0
    echo "local_cluster: SIGKILL after ${STOP_TIMEOUT}s: $REMAINING" >&2
    # shellcheck disable=SC2086  # one word per pid
    kill -KILL $REMAINING 2>/dev/null || true
    wait_gone 10 "${order[@]}" && return 0
    echo "local_cluster: still alive after SIGKILL: $REMAINING" >&2
    return 1
}

# ---------------------------------------------------------------- commands
cmd_stop() {
    [[ -f $STATE ]] || { echo "local_cluster: no cluster state in $TEMP_DIR"; return 0; }
    read_state
    stop_nodes "${STATE_NODES[@]}" || return 1
    rm -f "$STATE"
    echo "local_cluster: stopped pids $PIDS"
}

cmd_status() {
    [[ -f $STATE ]] || { echo "local_cluster: not running (no $STATE)"; return 3; }
    read_state
    echo "address:   $ADDRESS"
    echo "dashboard: $DASHBOARD_URL"
    local node i=0 up=0
    for node in "${STATE_NODES[@]}"; do
        if alive "${node%%:*}" && is_ours "$node"; then
            up=$((up + 1))
            echo "node_$i: pid ${node%%:*} alive ($(node_processes "$node" | wc -l) processes)"
        else
            echo "node_$i: pid ${node%%:*} gone"
        fi
        i=$((i + 1))
    done
    if ((up > 0)); then
        # RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0: else Ray resolves 127.0.0.1 to this machine's
        # external address, where nothing of the cluster listens (clusters/ray_loopback.py).
        RAY_AUTH_MODE=$AUTH_MODE RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 timeout 60 "$(pick_python)" \
            -m ray.scripts.scripts status --address "$ADDRESS" || true
    fi
    ((up == ${#STATE_NODES[@]})) && return 0
    ((up == 0)) && return 3
    return 1
}

wait_started() {  # $1 pid, $2 log: until 'ray start' reports the node up
    local deadline=$((SECONDS + TIMEOUT))
    while ((SECONDS < deadline)); do
        grep -q "Ray runtime started" "$2" 2>/dev/null && return 0
        if ! alive "$1"; then
            echo "local_cluster: node exited; log $2:" >&2
            tail -n 30 "$2" >&2
            return 1
        fi
        sleep 0.5
    done
    echo "local_cluster: node not up after ${TIMEOUT}s; log $2:" >&2
    tail -n 30 "$2" >&2
    return 1
}

wait_dashboard() {  # $1 python: until the dashboard lists all NODES nodes alive
    timeout "$TIMEOUT" "$1" - "$DASHBOARD_URL" "$NODES" <<'PY'
import sys
import time

from ray.util.state import list_nodes

url, want = sys.argv[1], int(sys.argv[2])
while True:
    try:
        if len(list_nodes(address=url, filters=[("state", "=", "ALIVE")])) >= want:
            break
    except Exception:  # noqa: BLE001 - the dashboard is still starting
        pass
    time.sleep(1)
PY
}

check_loopback() {  # $1 python: fail when a process of the nodes listens beyond loopback
    local exposed
    exposed=$("$1" "$HERE/listening.py" --exposed "${NODES_STARTED[@]%%:*}") && return 0
    echo "local_cluster: listening beyond loopback (address port pid command):" >&2
    echo "$exposed" >&2
    return 1
}

ensure_token() {  # $1 python: ~/.ray/auth_token, unless the token comes from the environment
    [[ -n ${RAY_AUTH_TOKEN:-} || -n ${RAY_AUTH_TOKEN_PATH:-} || -s $HOME/.ray/auth_token ]] &&
        return 0
    "$1" -m ray.scripts.scripts get-auth-token --generate >/dev/null ||
        die "could not create a token: ray get-auth-token --generate failed"
}

abort_start() {  # stop the nodes started so far, then fail with message $1
    stop_nodes "${NODES_STARTED[@]}" || true
    rm -f "$STATE"
    die "$1"
}

cmd_start() {
    if [[ -f $STATE ]]; then
        read_state
        [[ -z ${PIDS// /} || -z $(all_processes "${STATE_NODES[@]}") ]] ||
            die "a cluster from $TEMP_DIR is running (pids $PIDS): stop it first"
    fi
    local py pybin
    local -a lines ports runs
    py=$(pick_python)
    pybin=$(dirname "$py")
    "$py" -c "import ray" 2>/dev/null || die "$py cannot import ray: pip install -e '.[ray]'"
    mkdir -p "$TEMP_DIR"

    # 3 head ports + 3 per node; one run of 100 worker ports per node.
    mapfile -t lines < <("$py" "$HERE/free_ports.py" $((3 + 3 * NODES)) \
                              --ranges "$NODES" --range-size 100)
    read -r -a ports <<<"${lines[0]:-}"
    read -r -a runs <<<"${lines[1]:-}"
    ((${#ports[@]} == 3 + 3 * NODES && ${#runs[@]} == NODES)) || die "could not get free ports"
    local ip=127.0.0.1
    ADDRESS=$ip:${ports[0]}
    DASHBOARD_URL=http://$ip:${ports[1]}

    if [[ $AUTH == token ]]; then
        ensure_token "$py"
    fi
    export PATH="$pybin:$PATH" RAY_USAGE_STATS_ENABLED=0 RAY_AUTH_MODE=$AUTH
    # Workers at nice 0, not Ray's 15: else a busy machine starves the actors (as ensure_ray).
    export RAY_worker_niceness=${RAY_worker_niceness:-0}
    # ray_loopback.py sets RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 itself, after importing ray.
    unset RAY_ADDRESS RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER
    NODES_STARTED=()
    local i log pid
    local -a args
    for ((i = 0; i < NODES; i++)); do
        args=(--block --temp-dir "$TEMP_DIR/node_$i" --node-ip-address "$ip"
              --num-cpus "$NUM_CPUS" --object-store-memory $((OBJECT_STORE_MB * 1048576))
              --resources "{\"node_$i\": 1}" --disable-usage-stats
              --dashboard-agent-listen-port "${ports[3 + 3 * i]}"
              --node-manager-port "${ports[4 + 3 * i]}"
              --object-manager-port "${ports[5 + 3 * i]}"
              --min-worker-port "${runs[i]}" --max-worker-port $((runs[i] + 99)))
        if ((i == 0)); then
            args+=(--head --port "${ports[0]}" --include-dashboard=true
                   --dashboard-host "$ip" --dashboard-port "${ports[1]}"
                   --ray-client-server-port "${ports[2]}")
        else
            args+=(--address "$ADDRESS")
        fi
        log=$TEMP_DIR/node_$i.log
        # setsid: each node in its own session, out of reach of the caller's terminal
        # signals, and found by session id on stop.
        setsid "$py" "$HERE/ray_loopback.py" start "${args[@]}" </dev/null >"$log" 2>&1 &
        pid=$!
        NODES_STARTED+=("$pid:$(start_time "$pid")")
        write_state "${NODES_STARTED[@]}"
        # One node at a time: nodes starting together on a busy machine overloaded the GCS
        # (a node gives up when it is not registered within Ray's 30 s).
        if ((i == 0)); then
            wait_started "$pid" "$log" || abort_start "the head node failed to start"
        else
            wait_started "$pid" "$log" || abort_start "node_$i failed to start"
        fi
    done
    wait_dashboard "$py" ||
        abort_start "the dashboard at $DASHBOARD_URL did not list $NODES alive nodes"
    check_loopback "$py" || abort_start "a port of the cluster is reachable from other machines"
    echo "address=$ADDRESS"
    echo "dashboard=$DASHBOARD_URL"
    echo "pids=${NODES_STARTED[*]%%:*}"
    echo "state=$STATE"
    echo "driver_env=RAY_AUTH_MODE=$AUTH RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0"
}

case $CMD in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
esac
