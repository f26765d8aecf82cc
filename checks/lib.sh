# Shared by the shell test suites (container-tests.sh, deploy-tests.sh): sourced, not run.
# The caller sets $work (a scratch directory with logs/ in it) and counts with $passed and
# $failed.

log() { echo "--- $*" >&2; }

# run_test NAME COMMAND...: runs COMMAND with its output in $work/logs/NAME.log; prints PASS,
# or FAIL and the log's last lines.
run_test() {
    local name="$1"
    shift
    if "$@" >"$work/logs/$name.log" 2>&1; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        tail -n 25 "$work/logs/$name.log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
}
