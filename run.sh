#!/usr/bin/env bash
# Builds target/porthole.jar when it is missing or older than the sources, then runs it.
# Arguments pass through: ./run.sh relay --ssh-port 2223, ./run.sh version, ./run.sh --help.
# With no arguments it runs the app-server, with its embedded relay when there is no Portr config.
set -euo pipefail
cd "$(dirname "$0")"

jar=target/porthole.jar
stale=0
if [ ! -f "$jar" ]; then
  stale=1
elif [ -n "$(find pom.xml src/main -newer "$jar" -print -quit)" ]; then
  stale=1
fi
if [ "$stale" = 1 ]; then
  echo "run.sh: building $jar (mvn -B -q package -DskipTests)..." >&2
  mvn -B -q package -DskipTests >&2
fi

if [ $# -eq 0 ]; then
  set -- app-server
fi
exec java -jar "$jar" "$@"
