#!/bin/sh
# The runtime's test agent (docs/agents.md, "The agent program contract"):
# POSIX sh and printf only. Words in the prompt on stdin choose what it does:
#   edit    writes EDITED.md in the workspace
#   escape  tries to write outside the workspace and says, per place, whether it could
#   leak    prints the value of $LEAK_TOKEN (a granted secret) in a message
#   report  emits a report event
#   sleep   sleeps 60 s (for cancel, time limit and restart tests)
#   flood   writes messages without end (for the transcript's caps and the time limit)
#   fail    ends with a failing final event and exit code 1
# Without "fail" it ends with a usage event and a successful final event.
prompt=$(cat)

has() {
	case $prompt in
	*"$1"*) return 0 ;;
	esac
	return 1
}

say() {
	printf '{"type":"message","role":"assistant","content":"%s"}\n' "$1"
}

say "test agent started in $KRATE_ATTEMPT"
printf 'a line on stderr\n' >&2
printf 'plain text, not JSON\n'

if has edit; then
	printf 'edited by the test agent\n' >EDITED.md
	printf '{"type":"tool_call","name":"write","input":{"path":"EDITED.md"}}\n'
	printf '{"type":"tool_result","name":"write","content":"ok"}\n'
fi

if has escape; then
	data=$(dirname "$(dirname "$KRATE_WORKSPACE")")
	for target in /etc/krate-escape "$data/krate-escape" "$(dirname "$HOME")/krate-escape" \
		/krate/krate-escape /krate-escape; do
		if (printf 'x' >"$target") 2>/dev/null; then
			say "escape $target: written"
		else
			say "escape $target: blocked"
		fi
	done
fi

if has leak; then
	say "the token is $LEAK_TOKEN"
fi

if has report; then
	printf '{"type":"report","name":"tests","content":"3 passed, 0 failed"}\n'
fi

if has flood; then
	while :; do
		printf '{"type":"message","role":"assistant","content":"flood"}\n'
	done
fi

if has sleep; then
	say "sleeping"
	sleep 60
fi

if has fail; then
	printf '{"type":"final","content":"failing on purpose","status":"failure"}\n'
	exit 1
fi

printf '{"type":"usage","inputTokens":10,"outputTokens":5,"costUsd":0.25}\n'
printf '{"type":"final","content":"the test agent is done","status":"success"}\n'
