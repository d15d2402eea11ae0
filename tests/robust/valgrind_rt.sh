#!/bin/sh
# Runs every CTest test with label LABEL (default rt: the real-socket
# integration tests) under valgrind memcheck, one case at a time as CTest
# runs it. Fails if valgrind reports any memory error or a definite or
# indirect leak in any case, or if a case fails.
#
#   tests/robust/valgrind_rt.sh BUILD_DIR [LABEL]
#
# Busy polling is turned off (HOMA_POLL_USECS=0): valgrind runs one thread at
# a time, so a polling thread would only starve the others.
set -eu
BUILD=${1:?usage: $0 BUILD_DIR [LABEL]}
LABEL=${2:-rt}
LOGDIR="$BUILD/valgrind"
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
# "name<TAB>command args..." for every test of the label, from CTest itself.
ctest --test-dir "$BUILD" -N -L "$LABEL" --show-only=json-v1 >"$LOGDIR/tests.json"
python3 - "$LOGDIR/tests.json" >"$LOGDIR/tests.txt" <<'EOF'
import json, shlex, sys
for t in json.load(open(sys.argv[1]))["tests"]:
    print(t["name"] + "\t" + " ".join(shlex.quote(a) for a in t["command"]))
EOF
total=0
bad=0
start=$(date +%s)
while IFS='	' read -r name cmd; do
	total=$((total + 1))
	log="$LOGDIR/$name.log"
	# shellcheck disable=SC2086
	if eval HOMA_POLL_USECS=0 timeout 600 valgrind --tool=memcheck --error-exitcode=99 \
		--leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --track-origins=no \
		--log-file="$log.vg" $cmd >"$log" 2>&1; then
		result=ok
	else
		result="FAILED (exit $?)"
		bad=$((bad + 1))
	fi
	summary=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log.vg" | tail -1)
	printf '%-60s %s (valgrind errors: %s)\n' "$name" "$result" "${summary:-?}"
	if [ "$result" != ok ]; then
		tail -n 30 "$log" "$log.vg" >&2
	fi
done <"$LOGDIR/tests.txt"
echo "valgrind: $total tests with label $LABEL, $bad failed, $(($(date +%s) - start)) s"
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ]
