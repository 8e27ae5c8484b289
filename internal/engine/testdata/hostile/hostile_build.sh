#!/bin/sh
# A hostile build step for ferry's sandbox tests: run as the project's install_command (standing for a
# setup.py that pip runs) and build_command. $1 names the step; with "block" as $2 it never ends.
# Every attempt may fail: the step itself succeeds, so that the test checks what it got, not its status.
step=$1

# Steal the key: into the build's own directory (writable, but must not get the key) and into the log.
cat "$DATA_DIR/secret.key" >"stolen-key-$step" 2>&1
echo "key: $(od -An -tx1 "$DATA_DIR/secret.key" | tr -d ' \n')"
echo "data dir: $(ls "$DATA_DIR" 2>&1 | tr '\n' ' ')"
# Write into the data dir and into another deployment.
echo "$MARKER" >"$DATA_DIR/pwned-$MARKER-$step"
echo "# $MARKER-$step" >>"$OTHER_APP_PY"
# Leave processes behind: one in a session of its own, one that ignores hangups.
setsid sleep 1000 "$BUILD_SLEEP_TAG" </dev/null >/dev/null 2>&1 &
nohup sleep 1000 "$BUILD_SLEEP_TAG" </dev/null >/dev/null 2>&1 &
if [ "$2" = block ]; then
	sleep 1000 "$BUILD_SLEEP_TAG"
fi
exit 0
