#!/usr/bin/env bash
# The performance harness (issue 7): builds the jar when needed, installs the load tools when
# missing, runs every scenario on loopback side by side with its anchor, and writes
# target/bench/report.md and target/bench/report.json.
#   src/bench/run.sh [--quick] [--only P1,P3] [--profile] [--hold]
#   --profile: JFR recordings in target/bench/jfr/; --hold: P3 waits, warm, until target/bench/hold is
#   deleted, so perf/strace can be attached to the processes it prints.
#   PORTHOLE_BENCH_JAVA=/path/to/bin/java runs the porthole processes (relay, app-servers) on that
#   Java instead of the one on the PATH (e.g. Java 25, where JSch's threads are virtual threads).
#   PORTHOLE_BENCH_JFC=/path/to/settings.jfc: with --profile, that JFR settings file instead of "profile".
#   PORTHOLE_BENCH_JVM_OPTS="-XX:NativeMemoryTracking=summary": more options for porthole's JVMs, to
#   diagnose (figures taken with options a user would not pass are not the rows' figures).
# Every process it starts is recorded in target/bench/pids and killed on exit, however it exits.
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "bench: installing ${need[*]} (Debian packages)" >&2
  if [ "$(id -u)" != 0 ]; then sudo=sudo; else sudo=; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

jar=target/porthole.jar
if [ ! -f "$jar" ] || [ -n "$(find pom.xml src/main -newer "$jar" -print -quit)" ]; then
  echo "bench: building $jar (mvn -B -q package -DskipTests)" >&2
  mvn -B -q package -DskipTests >&2
fi

out=target/bench
mkdir -p "$out/classes"
rm -rf "$out/pids" "$out/logs"
javac -nowarn -encoding UTF-8 -cp "$jar" -d "$out/classes" src/bench/java/dev/porthole/bench/*.java \
  src/bench/java/dev/porthole/requestlog/*.java

bench_pid=
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  if [ -f "$out/pids" ]; then
    # only a pid that still has the start time recorded with it: an ended one may be anyone's now
    while read -r pid start; do
      now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f20)
      if [ -n "$start" ] && [ "$now" = "$start" ]; then
        kill -9 "$pid" 2>/dev/null || true
      fi
    done < "$out/pids"
  fi
}
trap cleanup EXIT INT TERM

java -cp "$out/classes:$jar" dev.porthole.bench.Bench --jar "$jar" --out "$out" "$@" &
bench_pid=$!
status=0
wait "$bench_pid" || status=$?
bench_pid=
exit "$status"
