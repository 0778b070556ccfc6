#!/usr/bin/env bash
# A real one-node Slurm on this machine, for `sweep slurm`'s integration test
# (tests/slurm.rs) and for trying job arrays by hand. Needs root and Debian.
#
#   scripts/slurm-local.sh start    install (when missing), configure, start, wait for the node
#   scripts/slurm-local.sh status   which of our daemons run, and what sinfo says
#   scripts/slurm-local.sh stop     end the daemons this script started (by their pid files)
#
# There is no systemd here and the packages do not start their services, so the
# daemons are started with start-stop-daemon, in the foreground of a background
# process, with pid files under /run/sweep-slurm. `stop` ends a process only
# when both its pid file and its executable match: nothing else is touched.
# Every step is idempotent: `start` twice leaves one set of daemons running.
#
# Pitfalls measured on this machine kind (see docs/SCALING.md):
#   - munged must run as the `munge` user;
#   - SlurmctldHost=<host>(127.0.0.1) and NodeAddr=127.0.0.1 avoid DNS;
#   - RealMemory above what slurmd detects drains the node: we use 90% of MemTotal;
#   - without slurmdbd there is no sacct: MinJobAge keeps finished jobs in squeue.
set -euo pipefail

RUN_DIR=/run/sweep-slurm          # our pid files
LOG_DIR=/var/log/slurm
CONF=/etc/slurm/slurm.conf
MARK="# Written by sweep's scripts/slurm-local.sh: a one-node Slurm for tests."
NODE=$(hostname -s 2>/dev/null || hostname)
WAIT_SECS=${SLURM_LOCAL_TIMEOUT:-60}

say() { printf 'slurm-local: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

install_packages() {
    local missing=() p
    for p in slurmctld slurmd slurm-client munge; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root"
    say "installing ${missing[*]} ..."
    local t0; t0=$(now)
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    say "installed in $(since "$t0") s"
}

setup_munge() {
    install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
    install -d -o munge -g munge -m 0755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        say "creating /etc/munge/munge.key"
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
}

write_conf() {
    if [ -e "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
        die "$CONF exists and was not written by this script; not overwriting a real cluster's configuration"
    fi
    local cpus mem_mb
    cpus=$(nproc --all)
    # Under what slurmd detects (it drains a node that reports less than configured).
    mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
    install -d -m 0755 /etc/slurm "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd "$RUN_DIR"
    local tmp="$CONF.tmp.$$"
    cat >"$tmp" <<EOF
$MARK
ClusterName=sweeplocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# No slurmdbd, so no sacct: keep finished jobs visible to squeue/scontrol for an hour.
MinJobAge=3600
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN_DIR/slurmctld.own.pid
SlurmdPidFile=$RUN_DIR/slurmd.own.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
    if cmp -s "$tmp" "$CONF" 2>/dev/null; then rm -f "$tmp"; else mv "$tmp" "$CONF"; fi
    say "$CONF: node $NODE, $cpus CPUs, ${mem_mb} MB"
}

# start_daemon NAME EXE USER ARGS...: one process, in the foreground of a
# background process; --oknodo makes a second start a no-op.
start_daemon() {
    local name=$1 exe=$2 user=$3
    shift 3
    start-stop-daemon --start --quiet --oknodo --background \
        --make-pidfile --pidfile "$RUN_DIR/$name.pid" --chuid "$user" \
        --output "$LOG_DIR/$name.out" --exec "$exe" -- "$@"
}

ours_alive() { # NAME EXE
    start-stop-daemon --status --pidfile "$RUN_DIR/$1.pid" --exec "$2" >/dev/null 2>&1
}

wait_for() { # DESCRIPTION COMMAND...
    local what=$1 deadline=$((SECONDS + WAIT_SECS))
    shift
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            say "timed out after ${WAIT_SECS} s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

node_ready() {
    local state
    state=$(sinfo -h -N -n "$NODE" -o '%t' 2>/dev/null) || return 1
    # idle, or busy with jobs (a second `start` while an array runs); never drained/down.
    case "$state" in idle | mix | alloc) return 0 ;; *) return 1 ;; esac
}

show_logs() {
    sinfo -R 2>/dev/null || true
    local f
    for f in "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log /var/log/munge/munged.log; do
        [ -f "$f" ] && { say "--- last lines of $f"; tail -n 15 "$f" >&2; }
    done
    return 0
}

start() {
    [ "$(id -u)" -eq 0 ] || die "run as root (the daemons and /etc/slurm need it)"
    local t0; t0=$(now)
    install_packages
    setup_munge
    write_conf
    local t1; t1=$(now)
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && ! ours_alive munged /usr/sbin/munged; then
        say "using the munged already running"
    else
        start_daemon munged /usr/sbin/munged munge:munge --foreground
        wait_for "munged" sh -c 'munge -n | unmunge' || { show_logs; exit 1; }
    fi
    start_daemon slurmctld /usr/sbin/slurmctld root -D
    wait_for "slurmctld" scontrol ping || { show_logs; exit 1; }
    start_daemon slurmd /usr/sbin/slurmd root -D -N "$NODE"
    if ! wait_for "node $NODE to be idle" node_ready; then
        sinfo -N >&2 || true
        show_logs
        exit 1
    fi
    say "node $NODE ready: daemons up in $(since "$t1") s ($(since "$t0") s in all)"
    sinfo -N
}

stop() {
    local name exe
    for name in slurmd slurmctld munged; do
        exe=/usr/sbin/$name
        if [ -f "$RUN_DIR/$name.pid" ]; then
            # Ends the process only if the pid file's process runs $exe.
            start-stop-daemon --stop --quiet --oknodo --retry TERM/15/KILL/5 \
                --pidfile "$RUN_DIR/$name.pid" --exec "$exe" || say "could not stop $name"
            rm -f "$RUN_DIR/$name.pid"
            say "stopped $name"
        fi
    done
}

status() {
    local name rc=0
    for name in munged slurmctld slurmd; do
        if ours_alive "$name" "/usr/sbin/$name"; then
            say "$name running (pid $(cat "$RUN_DIR/$name.pid"))"
        else
            say "$name not running (not started by this script)"
            rc=1
        fi
    done
    command -v sinfo >/dev/null && sinfo -N 2>/dev/null || true
    return $rc
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
