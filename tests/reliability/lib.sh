# lib.sh - helpers shared by the reliability tests (source after tests/lib/harness.sh).

# rel_start_flip: starts flip_app.py on a free port; sets FLIP_PORT, FLIP_COUNT (file).
rel_start_flip() {
	FLIP_PORT=$(fl_free_port)
	FLIP_COUNT=$FL_TMP/flip.count
	fl_start flip python3 "$FL_SOURCE/tests/reliability/flip_app.py" --port "$FLIP_PORT" \
		--count-file "$FLIP_COUNT"
	wait_for "flip app listening" 15 curl -s -o /dev/null "http://127.0.0.1:$FLIP_PORT/warmup"
	echo 0 >"$FLIP_COUNT"
}

# served: how many requests the flip app has answered; at_least_served N: true from N on.
served() { cat "$FLIP_COUNT"; }
at_least_served() { [[ $(served) -ge $1 ]]; }

# rel_flip_agent NAME: an agent probing the flip app every second with a big spool.
rel_flip_agent() {
	fl_agent_conf "$FL_TMP/$1.conf" "$1"
	sed -i "s/^\[agent\]$/[agent]\nspool_size = ${REL_SPOOL:-1000}/" "$FL_TMP/$1.conf"
	cat >>"$FL_TMP/$1.conf" <<-EOC

		[http "flip"]
		url = http://127.0.0.1:$FLIP_PORT/health
		expect_status = 200
		timeout = 800ms
	EOC
	fl_start_agent "$1"
}

# rel_seq_offset NAME: what to take from the agent's seqs to count its rounds. An agent with a
# spool file numbers rounds across its starts from a high base (agent/src/sender.h), logged at
# start; its first round is that base + 1.
rel_seq_offset() {
	local first
	first=$(sed -n 's/.*rounds of this start are numbered from seq \([0-9]*\).*/\1/p' \
		"$FL_TMP/agent-$1.log" | head -n 1)
	echo $((${first:-1} - 1))
}

# rel_sql [-json] SQL: a read-only query on the collector's state: the SQLite file, or with
# FL_TEST_STATE_PG=1 the PostgreSQL database the harness started (the same tables); -json
# prints the rows as a JSON array.
rel_sql() {
	if [[ ${FL__STATE_PG:-0} != 1 ]]; then
		sqlite3 -readonly "$FL_STATE" "$@"
	elif [[ $1 == -json ]]; then
		fl_pg_sql "select coalesce(json_agg(t), '[]') from ($2) t" flstate
	else
		fl_pg_sql "$1" flstate
	fi
}

# rel_flips HOST: number of status events of the flip probe of HOST.
rel_flips() { rel_sql "select count(*) from history where host='$1' and kind='status' and probe='flip'"; }

# rel_flips_at_least HOST N: true once HOST has N flip events in history (for wait_for).
rel_flips_at_least() { [[ $(rel_flips "$1") -ge $2 ]]; }

# rel_check_rounds HOST [MIN_GAP_US MAX_GAP_US]: every round the flip app served is in history
# exactly once, in order, alternating, at its own time (consecutive rounds 0.5-1.6 s apart, or
# as given: an agent restarted in between). Stop the agent first (so the count is final).
rel_check_rounds() {
	local host=$1 min_gap=${2:-500000} max_gap=${3:-1600000} served events
	# The first round (ok) finds a new probe: no transition. Every later round flips.
	served=$(($(cat "$FLIP_COUNT") - 1))
	wait_for "all $served flips of $host in history" 30 rel_flips_at_least "$host" "$served"
	events=$(rel_flips "$host")
	assert_eq "history holds one flip event per round after the first ($served)" "$served" "$events"
	local J
	J=$(rel_sql -json "select at_us, \"from\", \"to\", agent_time_us from history where host='$host' and kind='status' and probe='flip' order by id")
	assert_jq "consecutive events chain (each from = previous to): no round twice, none skipped" "$J" '
		. as $e | [range(1; length) | select($e[.].from != $e[. - 1].to)] | length == 0'
	assert_jq "no two events share a round time (agent_time_us distinct)" "$J" \
		'(map(.agent_time_us) | unique | length) == length'
	assert_jq "events are placed at their rounds' times: in order, $min_gap-$max_gap us apart" \
		"$J" --argjson lo "$min_gap" --argjson hi "$max_gap" '
		. as $e | [range(1; length) | ($e[.].at_us - $e[. - 1].at_us)]
		| all(. >= $lo and . <= $hi)'
}
