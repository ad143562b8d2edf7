#!/bin/sh
# PlexCourier launcher. Stash runs `sh {pluginDir}/plexcourier.sh hook|task`, or with no word at all for an
# operation, with one JSON object on stdin (reference/stash-plugin-protocol.md §1.3, §2). Stash makes the
# user's Save wait for every hook process (§4.3) and a bulk edit runs one per scene, so a hook never starts
# Node in the foreground: it spools stdin into the inbox, makes sure a worker is alive, prints one JSON
# object and exits. Everything else is Node's.
# POSIX sh only (busybox ash in Stash's Alpine image, dash, macOS sh), and builtins wherever possible:
# every fork costs about a millisecond.

set -C  # noclobber: `>` creates exclusively, so two hooks never write the same spool file
set -f  # no globbing when fields are split below

# The plugin dir is this script's own dir. Stash's cwd is ours (§1.3 point 6), so a relative one stays valid.
case $0 in */*) plugin_dir=${0%/*} ;; *) plugin_dir=. ;; esac
case $plugin_dir in /*) ;; *) plugin_dir=$PWD/$plugin_dir ;; esac
entry=$plugin_dir/plexcourier.cjs

# Keep in step with resolveDataDir and dataPaths in src/paths.ts.
data_dir=$PLEXCOURIER_DATA_DIR
while :; do
  case $data_dir in
    [' 	']*) data_dir=${data_dir#?} ;;
    *[' 	']) data_dir=${data_dir%?} ;;
    *) break ;;
  esac
done
[ -n "$data_dir" ] || data_dir=$plugin_dir/data
case $data_dir in /*) ;; *) data_dir=$PWD/$data_dir ;; esac
inbox_tmp=$data_dir/inbox/tmp
inbox_new=$data_dir/inbox/new
pid_file=$data_dir/worker.pid
start_marker=$data_dir/worker.starting
clock_file=$data_dir/inbox/launcher-clock

# Stash logs a stderr line starting 0x01 'e' 0x02 at ERROR (§3.2).
log_error() { printf '\001e\002PlexCourier: %s\n' "$1" >&2; }

# Sets node_bin. macOS GUI launches give Stash a bare PATH (§7), hence the usual install places.
find_node() {
  node_bin=
  if [ -n "${PLEXCOURIER_NODE:-}" ]; then
    [ -f "$PLEXCOURIER_NODE" ] && [ -x "$PLEXCOURIER_NODE" ] && node_bin=$PLEXCOURIER_NODE
    return
  fi
  saved_ifs=$IFS
  IFS=:
  for dir in $PATH /usr/local/bin /opt/homebrew/bin /usr/bin /opt/local/bin \
    "${HOME:-/nonexistent}/.nvm/current/bin" "${HOME:-/nonexistent}/.volta/bin" "$plugin_dir"; do
    if [ -n "$dir" ] && [ -f "$dir/node" ] && [ -x "$dir/node" ]; then
      node_bin=$dir/node
      break
    fi
  done
  IFS=$saved_ifs
}

node_missing() {
  log_error "Node.js >= 20 is needed and was not found (looked on PATH, in /usr/local/bin, /opt/homebrew/bin, /usr/bin, /opt/local/bin, ~/.nvm/current/bin, ~/.volta/bin and $plugin_dir/node). Install Node.js 20 or later, or set PLEXCOURIER_NODE to its path; in Docker use an image derived from stashapp/stash that adds it (RUN apk add --no-cache nodejs)."
}

# Runs the Node entry in place of this shell, so Stash's SIGKILL reaches Node (§4.5) and stdin is untouched.
exec_node() {
  find_node
  if [ -z "$node_bin" ]; then
    node_missing
    printf '%s\n' '{"error":"PlexCourier: Node.js >= 20 not found"}'
    exit 0
  fi
  exec "$node_bin" "$entry" "$@"
}

# True when worker.pid names a live worker: `<pid> <starttime>`, written by the worker.
worker_alive() {
  pid= start= stat=
  read -r pid start 2>/dev/null <"$pid_file"
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  # PLEXCOURIER_PROC exists only so that tests can take the no-/proc path on Linux.
  proc=${PLEXCOURIER_PROC:-/proc}
  if [ -r "$proc/self/stat" ]; then
    # Linux. A pid can be reused, so the kernel's start time (field 22) must match the file's. And in Docker
    # Stash is PID 1 and never reaps (§7), so a dead worker stays a zombie that `kill -0` calls alive: check
    # the state (field 3). comm (field 2) may hold spaces and ')', so split after its last ') '.
    read -r stat 2>/dev/null <"$proc/$pid/stat"
    [ -n "$stat" ] || return 1
    set -- ${stat##*') '}
    [ $# -ge 20 ] || return 1
    case $1 in Z | X | x) return 1 ;; esac
    shift 19
    [ "$1" = "$start" ]
  else
    # No /proc (macOS, BSD): the process must exist, be node and not be a zombie.
    kill -0 "$pid" 2>/dev/null || return 1
    set -- $(ps -o stat= -o comm= -p "$pid" 2>/dev/null)
    case $1 in '' | Z*) return 1 ;; esac
    case $2 in node | */node) return 0 ;; esac
    return 1
  fi
}

# The first hook to create worker.starting starts the worker; the others leave it to that one, so a burst
# of hooks with no worker does not start a storm of them. The worker deletes the marker once it owns the
# store; a marker older than 10 s is stale. Only a courtesy: opening LevelDB is the real election, so when
# in doubt, start. The marker is written aside and hard-linked into place, so it never exists empty.
# (Forks here are fine: this path is about to start Node anyway.)
claim_start() {
  mark_tmp=$start_marker.$$
  printf '%s\n' "$now" 2>/dev/null >|"$mark_tmp" || return 0
  claimed=0
  if ln "$mark_tmp" "$start_marker" 2>/dev/null; then
    claimed=1
  else
    at=
    read -r at 2>/dev/null <"$start_marker"
    case $at in '' | *[!0-9]*) at=0 ;; esac
    if [ ! -e "$start_marker" ] || [ $((now - at)) -ge 10 ] || [ $((at - now)) -gt 10 ]; then
      rm -f "$start_marker"
      if ln "$mark_tmp" "$start_marker" 2>/dev/null || [ ! -e "$start_marker" ]; then claimed=1; fi
    fi
  fi
  rm -f "$mark_tmp"
  [ "$claimed" = 1 ]
}

# Sets now_ms (epoch milliseconds) and now (seconds). `date` costs a fork and gives only seconds, so on
# Linux the boot time is worked out once an hour (per boot, in inbox/launcher-clock) and /proc/uptime, read with a
# builtin, gives the rest to the hundredth of a second.
read_clock() {
  up= boot_id= c_id= c_boot= c_at=
  if read -r up _ 2>/dev/null </proc/uptime && read -r boot_id 2>/dev/null </proc/sys/kernel/random/boot_id; then
    up_cs=$((${up%.*} * 100 + 1${up#*.} - 100))  # the 1..-100 dance keeps "0.08" from reading as octal
    read -r c_id c_boot c_at 2>/dev/null <"$clock_file"
    case $c_boot$c_at in '' | *[!0-9]*) c_id= ;; esac
    if [ "$c_id" = "$boot_id" ] && [ "$up_cs" -ge "$c_at" ] && [ $((up_cs - c_at)) -lt 360000 ]; then
      now_ms=$((c_boot + up_cs * 10))
    else
      now_ms=$(($(date +%s) * 1000))
      printf '%s %s %s\n' "$boot_id" $((now_ms - up_cs * 10)) "$up_cs" 2>/dev/null >|"$clock_file"
    fi
  else
    now_ms=$(($(date +%s) * 1000))
  fi
  now=$((now_ms / 1000))
}

# Creates $1/<name> exclusively and copies stdin into it; sets name. Hands the run to Node, stdin intact,
# when the file cannot be created; says so and exits when stdin cannot be copied (disk full).
spool_stdin() {
  umask 077
  if [ ! -d "$inbox_tmp" ] || [ ! -d "$inbox_new" ]; then
    mkdir -p "$inbox_tmp" "$inbox_new" 2>/dev/null || exec_node "$@"
  fi

  # Name: <ms13>-<pid>-<n>.event, as src/inbox/write.ts names them; the pid and counter keep names unique.
  read_clock
  n=0
  while :; do
    name=$now_ms-$$-$n.event
    # `true >file` under noclobber creates it exclusively without touching stdin, so on failure Node can
    # still take over with stdin intact.
    true 2>/dev/null >"$inbox_tmp/$name" && break
    [ -e "$inbox_tmp/$name" ] && [ "$n" -lt 100 ] || exec_node "$@"
    n=$((n + 1))
  done
  if ! cat >>"$inbox_tmp/$name"; then
    rm -f "$inbox_tmp/$name"
    spool_failed
  fi
}

spool_failed() {
  log_error "could not write the event to $inbox_tmp (disk full?); it is lost. Run the Sync Recent task once the disk has room."
  printf '%s\n' '{"error":"PlexCourier: could not spool the event"}'
  exit 0
}

# Moves the spooled event into inbox/new, makes sure a worker runs, prints the hook's one JSON object.
deliver() {
  if ! mv -f "$inbox_tmp/$name" "$inbox_new/$name"; then
    rm -f "$inbox_tmp/$name"
    spool_failed
  fi

  if ! worker_alive && claim_start; then
    find_node
    if [ -z "$node_bin" ]; then
      node_missing
      rm -f "$start_marker"
      printf '{"output":"queued %s","error":"PlexCourier: Node.js >= 20 not found; the event waits in the inbox"}\n' "$name"
      exit 0
    fi
    # Detached with stdio on /dev/null: Stash reads our stdout to EOF (§3.1), and must not wait for the worker.
    "$node_bin" "$entry" worker --background </dev/null >/dev/null 2>&1 &
    printf '{"output":"queued %s; worker started"}\n' "$name"
    exit 0
  fi
  printf '{"output":"queued %s"}\n' "$name"
}

hook() {
  spool_stdin hook
  deliver
}

# No mode word: `runPluginOperation` runs exec alone, with no execArgs and no defaultArgs, and the caller's
# args arrive on stdin only (§1.3 point 1, reference/stash-ui-plugins.md). Stdin tells the cases apart: a
# hook context takes the hook path (still without Node); anything else is an operation, which Node answers
# from the same bytes. By hand from a terminal, Node prints its usage.
unnamed() {
  [ -t 0 ] && exec_node
  spool_stdin
  # Go's json.Marshal writes keys as "key": with no space; inside a JSON string the quotes would be escaped.
  if grep -q '"hookContext":' "$inbox_tmp/$name" 2>/dev/null; then
    deliver
    return
  fi
  # Node reads the operation from the spooled copy; the file goes before Node starts, the open fd stays.
  exec <"$inbox_tmp/$name"
  rm -f "$inbox_tmp/$name"
  exec_node
}

case ${1:-} in
  hook) hook ;;
  '') unnamed ;;
  *) exec_node "$@" ;;
esac
exit 0
