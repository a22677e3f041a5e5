#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration tests of kvm-lazytop's exports on the host (root, KVM):
#   live      dirty-ring workload + kvm-lazytop --listen + a real Prometheus
#             (shipped dashboards/prometheus.yml, templated target, 1 s scrape,
#             own tmp storage): the scraped dirty-page counter equals the
#             workload's exact count; every dashboard/rule PromQL evaluates;
#             promtool check config/rules; wrk (10 s, 4 connections) against
#             /metrics with RSS before/after; malformed/oversized requests;
#             CapEff of the exporter after attach; /snapshot.json validated
#             against snapshot.schema.json.
#   snapshot  kvm-lazytop -p PID --until-exit -o json on the workload: schema,
#             gate with exact-count rules, report, report --html.
#   static    kl-exports serve (fixture snapshot): same HTTP checks, no BPF.
#   caps      kl-exports caps: the drop itself.
#   http      issue 14: 33 and 100 idle connections + a scraper that must
#             get 200 within 1 s; Accept negotiation (q, version);
#             OpenMetrics structure (om_check.py) and promtool on the text
#             format; standard process_* metrics; kvm-lazytop --listen
#             :PORT binds 127.0.0.1 only.
#   html      headless Chromium: no console errors, bar/series counts, screenshot.
# Nothing is skipped: a missing prerequisite fails the run.
# usage: run-exports-tests.sh --kl KL --tool TOOL --workload WL --out DIR [TEST...]
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
KL= TOOL= WL= OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--kl) KL=$2; shift 2 ;; --tool) TOOL=$2; shift 2 ;;
	--workload) WL=$2; shift 2 ;; --out) OUT=$2; shift 2 ;;
	*) break ;;
	esac
done
TESTS=${*:-static caps http live snapshot html}
D=$OUT; rm -rf "$D"; mkdir -p "$D"
FAILS=0 PASSES=0 BG=()
cleanup() { for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT
log() { echo "  [exports] $*"; }
ok() { PASSES=$((PASSES+1)); echo "  ok   $*"; }
bad() { FAILS=$((FAILS+1)); echo "  FAIL $*"; }
need() { for c in "$@"; do command -v "$c" >/dev/null || { bad "missing prerequisite: $c"; return 1; }; done; }
for f in "$KL" "$TOOL" "$WL"; do [ -x "$f" ] || { echo "FAIL missing $f"; exit 1; }; done

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

wait_http() {	# wait_http URL PID SECONDS
	local t0=$SECONDS
	until [ "$(http_code "$1")" = 200 ]; do
		kill -0 "$2" 2>/dev/null || return 1
		((SECONDS - t0 < $3)) || return 1
		sleep 0.2
	done
}

# Raw requests over a socket; prints the status code ("closed" if none).
raw() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
port, what = int(sys.argv[1]), sys.argv[2]
reqs = {
 "garbage": b"GARBAGE\r\n\r\n",
 "binary": bytes(range(256)) * 4 + b"\r\n\r\n",
 "nohost11": b"GET /metrics HTTP/1.1\r\n\r\n",
 "bigheader": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
 "manyheaders": b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(5000)) + b"\r\n",
 "biguri": b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
 "post": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
 "bigpost": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 65536,
 "delete": b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
 "put": b"PUT /snapshot.json HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
 "badpath": b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
 "root": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
 "badversion": b"GET /metrics HTTP/7.3\r\nHost: x\r\n\r\n",
 "head": b"HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
}
s = socket.create_connection(("127.0.0.1", port), timeout=15)
try:
    s.sendall(reqs[what])
except OSError:
    pass
data = b""
try:
    while len(data) < 1 << 20:
        b = s.recv(65536)
        if not b:
            break
        data += b
        if what != "head" and b"\r\n\r\n" in data:
            break
except OSError:
    pass
line = data.split(b"\r\n", 1)[0].decode("latin1")
print(line.split()[1] if line.startswith("HTTP/") and len(line.split()) > 1 else "closed")
if what == "head":
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    print("body=%d" % len(body))
PY
}

# http_checks PORT PID LABEL: methods, paths, malformed and oversized input
http_checks() {
	local port=$1 pid=$2 label=$3 c
	[ "$(http_code "http://127.0.0.1:$port/metrics")" = 200 ] && ok "$label: GET /metrics 200" || bad "$label: GET /metrics"
	c=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port/metrics" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-type"{print $2}')
	[[ $c == "text/plain; version=0.0.4"* ]] && ok "$label: Content-Type $c" || bad "$label: Content-Type '$c'"
	c=$(curl -s -D - -o "$D/om.txt" -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$port/metrics" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-type"{print $2}')
	[[ $c == application/openmetrics-text* ]] && [ "$(tail -1 "$D/om.txt")" = "# EOF" ] &&
		ok "$label: OpenMetrics negotiated ($c, ends with # EOF)" || bad "$label: OpenMetrics negotiation '$c'"
	for m in POST PUT DELETE PATCH OPTIONS TRACE; do
		c=$(http_code -X $m "http://127.0.0.1:$port/metrics")
		[ "$c" = 405 ] || { bad "$label: $m /metrics -> $c (want 405)"; continue; }
	done
	ok "$label: POST/PUT/DELETE/PATCH/OPTIONS/TRACE -> 405"
	c=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$port/metrics" | tr -d '\r' | awk -F': ' 'tolower($1)=="allow"{print $2}')
	[ "$c" = "GET, HEAD" ] && ok "$label: 405 carries Allow: $c" || bad "$label: Allow '$c'"
	for p in / /metricsx /metrics/ /favicon.ico /api/v1/query; do
		c=$(http_code "http://127.0.0.1:$port$p")
		[ "$c" = 404 ] || bad "$label: GET $p -> $c (want 404)"
	done
	ok "$label: other paths -> 404"
	for r in garbage binary nohost11 bigheader manyheaders biguri post bigpost delete put badpath root badversion; do
		c=$(raw "$port" $r | head -1)
		case $r:$c in
		badversion:505|*:4[0-9][0-9]) log "$label: $r -> $c" ;;
		# a request line that is not even "METHOD URI": libmicrohttpd drops
		# the connection without a status line (nothing to answer to)
		garbage:closed) log "$label: $r -> connection closed by libmicrohttpd" ;;
		*) bad "$label: malformed request '$r' -> $c (want 4xx)" ;;
		esac
	done
	c=$(raw "$port" head | tr '\n' ' ')
	[[ $c == "200 body=0 " ]] && ok "$label: HEAD /metrics 200 without body" || bad "$label: HEAD -> $c"
	kill -0 "$pid" 2>/dev/null && [ "$(http_code "http://127.0.0.1:$port/metrics")" = 200 ] &&
		ok "$label: malformed/oversized requests answered 4xx, process alive and serving" ||
		bad "$label: exporter died or stopped serving after malformed requests"
}

# wrk_check PORT PID LABEL: bounded load, no errors, flat RSS
wrk_check() {
	local port=$1 pid=$2 label=$3 r0 r1 out
	need wrk || return
	r0=$(rss_kb "$pid")
	wrk -t2 -c4 -d10s --timeout 5s "http://127.0.0.1:$port/metrics" >"$D/wrk-$label.txt" 2>&1
	r1=$(rss_kb "$pid")
	out=$(grep -E 'Requests/sec|Transfer/sec|requests in|Latency' "$D/wrk-$label.txt" | tr -s ' ' | tr '\n' ';')
	log "$label wrk: $out RSS ${r0} kB -> ${r1} kB"
	if grep -qE 'Socket errors|Non-2xx' "$D/wrk-$label.txt"; then
		bad "$label: wrk saw errors: $(grep -E 'Socket errors|Non-2xx' "$D/wrk-$label.txt")"
	elif ! kill -0 "$pid" 2>/dev/null; then
		bad "$label: exporter died under wrk"
	elif [ $((r1 - r0)) -gt $((r0 / 2 + 8192)) ]; then
		bad "$label: RSS grew ${r0} -> ${r1} kB under wrk"
	else
		ok "$label: wrk 10 s x 4 connections: no errors, RSS ${r0} -> ${r1} kB"
	fi
}

t_static() {
	local port pid
	port=$(free_port)
	"$KL" serve "127.0.0.1:$port" "$TOP/tests/unit/exports/data/golden.json" >"$D/static.out" 2>&1 &
	pid=$!; BG+=("$pid")
	wait_http "http://127.0.0.1:$port/metrics" "$pid" 10 || { bad "static: exporter not serving"; return; }
	curl -s "http://127.0.0.1:$port/metrics" | promtool check metrics >"$D/static.lint" 2>&1 &&
		ok "static: promtool check metrics on /metrics: no problems" || bad "static: promtool: $(cat "$D/static.lint")"
	http_checks "$port" "$pid" static
	wrk_check "$port" "$pid" static
	kill "$pid"; wait "$pid" 2>/dev/null
}

t_caps() {
	local out
	out=$("$KL" caps) || { bad "caps: caps_drop_after_attach failed: $out"; return; }
	log "caps (kl-exports as root, after caps_drop_after_attach): $(echo "$out" | tr '\n' ' ')"
	grep -q '^CapEff:[[:space:]]*0000000000000000$' <<<"$out" &&
	grep -q '^CapPrm:[[:space:]]*0000000000000000$' <<<"$out" &&
	grep -q '^CapBnd:[[:space:]]*0000000000000000$' <<<"$out" &&
	grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$out" &&
		ok "caps: effective/permitted/bounding sets empty, no_new_privs on (kernel $(uname -r))" ||
		bad "caps: sets not empty after the drop"
}

# idle_scrape PORT NIDLE: NIDLE idle connections (connected, nothing sent),
# then a scrape that must answer 200 within 1 s; prints "CODE SECONDS".
idle_scrape() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
idle = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    idle.append(s)
time.sleep(0.3)     # the server has accepted them all
t0 = time.monotonic()
code = "none"
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=1)
    s.settimeout(max(0.05, 1 - (time.monotonic() - t0)))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while b"\r\n" not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    line = data.split(b"\r\n", 1)[0].split()
    code = line[1].decode() if len(line) > 1 else "closed"
except OSError as e:
    code = type(e).__name__
print(code, "%.3f" % (time.monotonic() - t0))
PY
}

ctype() {	# ctype PORT ACCEPT -> the Content-Type served
	curl -s -D - -o /dev/null ${2:+-H "Accept: $2"} "http://127.0.0.1:$1/metrics" |
		tr -d '\r' | awk -F': ' 'tolower($1)=="content-type"{print $2}'
}

t_http() {
	local port pid r c a n m want tpid
	need curl python3 promtool ss || return
	port=$(free_port)
	"$KL" serve "127.0.0.1:$port" "$TOP/tests/unit/exports/data/golden.json" >"$D/http.out" 2>&1 &
	pid=$!; BG+=("$pid")
	wait_http "http://127.0.0.1:$port/metrics" "$pid" 10 || { bad "http: exporter not serving"; return; }
	for n in 33 100; do
		r=$(idle_scrape "$port" $n)
		[[ $r == "200 "0.* ]] && ok "http: $n idle connections from 127.0.0.1, scrape from it: 200 in ${r#* } s" ||
			bad "http: $n idle connections starve the scrape: got '$r' (want 200 within 1 s)"
	done
	kill -0 "$pid" 2>/dev/null && [ "$(http_code "http://127.0.0.1:$port/metrics")" = 200 ] &&
		ok "http: serving after the idle connections closed" || bad "http: not serving after the idle connections"
	# content negotiation: WANT|ACCEPT
	while IFS='|' read -r want a; do
		c=$(ctype "$port" "$a")
		case $want:$c in
		om:"application/openmetrics-text; version=1.0.0; charset=utf-8"|text:"text/plain; version=0.0.4; charset=utf-8")
			ok "http: Accept '${a:-(none)}' -> $c" ;;
		*) bad "http: Accept '${a:-(none)}' -> '$c' (want $want)" ;;
		esac
	done <<'ACCEPT'
text|
text|*/*
text|text/plain
om|application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1
om|application/openmetrics-text; version=1.0.0
text|application/openmetrics-text;version=1.0.0;q=0
text|text/plain;q=1.0, application/openmetrics-text;q=0.5
text|application/openmetrics-text;version=0.0.1
ACCEPT
	curl -s -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$port/metrics" >"$D/http.om"
	python3 "$TOP/tests/unit/exports/om_check.py" "$D/http.om" >"$D/http-om.txt" 2>&1 &&
		ok "http: OpenMetrics /metrics structure: $(cat "$D/http-om.txt")" || bad "http: $(cat "$D/http-om.txt")"
	curl -s "http://127.0.0.1:$port/metrics" >"$D/http.prom"
	promtool check metrics <"$D/http.prom" >"$D/http.lint" 2>&1 &&
		ok "http: promtool check metrics on the text format: no problems" || bad "http: promtool: $(head -3 "$D/http.lint")"
	c=0
	for m in process_cpu_seconds_total process_resident_memory_bytes process_start_time_seconds \
		process_open_fds process_max_fds process_virtual_memory_bytes; do
		grep -q "^$m [0-9]" "$D/http.prom" && grep -q "^# TYPE $m " "$D/http.prom" || { bad "http: no $m"; c=1; }
	done
	[ $c = 0 ] && ok "http: standard process_* self metrics on /metrics"
	if grep -q 'kvm_lazytop_collector_' "$D/http.prom"; then
		bad "http: non-standard kvm_lazytop_collector_* still exposed"
	else
		ok "http: no kvm_lazytop_collector_* self metrics"
	fi
	kill "$pid"; wait "$pid" 2>/dev/null
	# the collector itself: --listen :PORT = loopback only
	port=$(free_port)
	"$TOOL" -i 500ms -d 30s --listen ":$port" -o json >"$D/listen-port.out" 2>"$D/listen-port.err" &
	tpid=$!; BG+=("$tpid")
	if wait_http "http://127.0.0.1:$port/metrics" "$tpid" 60; then
		r=$(ss -Hltn "sport = :$port" | awk '{print $4}' | tr '\n' ' ')
		[ "$r" = "127.0.0.1:$port " ] && ok "http: kvm-lazytop --listen :$port serves, bound to $r" ||
			bad "http: --listen :$port bound to '$r' (want 127.0.0.1:$port only)"
	else
		bad "http: kvm-lazytop --listen :$port not serving: $(head -2 "$D/listen-port.err")"
	fi
	kill -TERM "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
}

# start_workload TAG ARGS... -> WPID (VM created, waits for SIGUSR1)
start_workload() {
	local tag=$1 t0=$SECONDS; shift
	"$WL" --wait-signal "$@" >"$D/$tag.out" 2>"$D/$tag.err" &
	WPID=$!; BG+=("$WPID")
	until grep -q '^READY ' "$D/$tag.out" 2>/dev/null; do
		kill -0 "$WPID" 2>/dev/null || { bad "workload died: $(tail -3 "$D/$tag.err")"; return 1; }
		((SECONDS - t0 < 30)) || { bad "workload not READY"; return 1; }
		sleep 0.05
	done
}

wait_result() {	# wait_result TAG -> RESULT
	local t0=$SECONDS
	until RESULT=$(grep '^RESULT ' "$D/$1.out" 2>/dev/null); do
		((SECONDS - t0 < 120)) || { bad "workload $1 printed no RESULT"; return 1; }
		sleep 0.1
	done
	[[ $RESULT == *status=ok* ]] || { bad "workload: $RESULT"; return 1; }
}

prom_query() {	# prom_query URL EXPR -> first value or "none"
	curl -s --get --data-urlencode "query=$2" "$1/api/v1/query" |
		python3 -c 'import json,sys;r=json.load(sys.stdin)["data"]["result"];print(r[0]["value"][1] if r else "none")'
}

t_live() {
	local port pport tpid ppid purl want got cap t0
	need prometheus promtool curl python3 || return
	port=$(free_port); pport=$(free_port)
	start_workload wl -n 256 -r 20 -v 2 --hold-ms 600000 || return
	"$TOOL" -p "$WPID" -i 500ms --listen "127.0.0.1:$port" -o json >"$D/lt.out" 2>"$D/lt.err" &
	tpid=$!; BG+=("$tpid")
	wait_http "http://127.0.0.1:$port/metrics" "$tpid" 60 || { bad "live: kvm-lazytop not serving: $(tail -3 "$D/lt.err")"; return; }
	ok "live: kvm-lazytop --listen 127.0.0.1:$port serving after attach"
	# capabilities of the exporter after attach
	cap=$(awk '/^CapEff/{print $2}' "/proc/$tpid/status")
	log "live: exporter pid $tpid after attach: $(grep -E '^Cap(Eff|Prm|Bnd)|^NoNewPrivs' "/proc/$tpid/status" | tr -s '\t ' ' ' | tr '\n' ' ')"
	[ "$cap" = 0000000000000000 ] && ok "live: exporter CapEff 0 after attach" ||
		bad "live: exporter CapEff $cap after attach (caps_drop_after_attach() not called by the collector?)"
	# Prometheus with the shipped config, templated
	mkdir -p "$D/prom"
	cp -r "$TOP/dashboards/rules" "$D/prom/"
	sed -e "s/'127.0.0.1:11940'/'127.0.0.1:$port'/" -e 's/_interval: 15s/_interval: 1s/' -e 's/scrape_timeout: 5s/scrape_timeout: 1s/' \
		"$TOP/dashboards/prometheus.yml" >"$D/prom/prometheus.yml"
	promtool check config "$D/prom/prometheus.yml" >"$D/promtool-config.txt" 2>&1 &&
		ok "live: promtool check config (templated shipped config)" || bad "live: promtool check config: $(cat "$D/promtool-config.txt")"
	promtool check rules "$TOP"/dashboards/rules/*.yml >"$D/promtool-rules.txt" 2>&1 &&
		ok "live: promtool check rules" || bad "live: promtool check rules: $(cat "$D/promtool-rules.txt")"
	curl -s "http://127.0.0.1:$port/metrics" >"$D/live.prom"
	promtool check metrics <"$D/live.prom" >"$D/live.lint" 2>&1 &&
		ok "live: promtool check metrics on the live /metrics ($(grep -vc '^#' "$D/live.prom") samples): no problems" ||
		bad "live: promtool check metrics: $(head -5 "$D/live.lint")"
	prometheus --config.file="$D/prom/prometheus.yml" --storage.tsdb.path="$D/prom/data" \
		--web.listen-address="127.0.0.1:$pport" >"$D/prometheus.log" 2>&1 &
	ppid=$!; BG+=("$ppid")
	purl="http://127.0.0.1:$pport"
	t0=$SECONDS
	until [ "$(prom_query "$purl" 'up{job="kvm-lazytop"}' 2>/dev/null)" = 1 ]; do
		kill -0 "$ppid" 2>/dev/null || { bad "live: prometheus died: $(tail -3 "$D/prometheus.log")"; return; }
		((SECONDS - t0 < 60)) || { bad "live: prometheus never scraped the exporter"; return; }
		sleep 0.5
	done
	ok "live: Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') scraping (up == 1)"
	kill -USR1 "$WPID"
	wait_result wl || return
	want=$(sed -E 's/.* dirty_pages=([0-9]+).*/\1/' <<<"$RESULT")
	log "live: workload $RESULT"
	sleep 4	# collector interval 0.5 s + scrape interval 1 s, twice
	got=$(prom_query "$purl" "sum(kvm_lazytop_dirty_pages_total{vm_pid=\"$WPID\"})")
	[ "$got" = "$want" ] && ok "live: Prometheus sum(kvm_lazytop_dirty_pages_total{vm_pid=\"$WPID\"}) = $got = workload's dirty pages" ||
		bad "live: Prometheus dirty pages $got, workload $want"
	for q in "sum(kvm_lazytop_kvm_runs_total{vm_pid=\"$WPID\"})" "sum(kvm_lazytop_userspace_exits_total{vm_pid=\"$WPID\"})" \
		"sum(kvm_lazytop_dirty_pages_total{vm_pid=\"$WPID\"}) by (vcpu)" "process_resident_memory_bytes{job=\"kvm-lazytop\"}" \
		'count(kvm_lazytop_probe_status{state="attached"} == 1)' 'kvm_lazytop_drops_total{reason="vcpu_map_full"}'; do
		log "live: query $q = $(prom_query "$purl" "$q")"
	done
	want=$(sed -E 's/.* kvm_runs=([0-9]+).*/\1/' <<<"$RESULT")
	got=$(prom_query "$purl" "sum(kvm_lazytop_kvm_runs_total{vm_pid=\"$WPID\"})")
	[ "$got" = "$want" ] && ok "live: Prometheus KVM_RUN count $got = workload's kvm_runs" || bad "live: Prometheus kvm_runs $got, workload $want"
	sleep 2
	python3 "$TOP/tests/host/exports/promql_check.py" "$purl" "$TOP/dashboards" >"$D/promql.txt" 2>&1 && rc=0 || rc=$?
	sed 's/^/      /' "$D/promql.txt"
	[ $rc = 0 ] && ok "live: every dashboard/rule PromQL evaluates ($(tail -1 "$D/promql.txt"))" || bad "live: PromQL check"
	# the snapshot behind /metrics, against the schema
	curl -s "http://127.0.0.1:$port/snapshot.json" >"$D/live-snapshot.json"
	python3 "$TOP/tests/host/exports/validate-schema.py" "$TOP/tools/kvm-lazytop/snapshot.schema.json" "$D/live-snapshot.json" >"$D/schema-live.txt" 2>&1 &&
		ok "live: /snapshot.json valid against snapshot.schema.json" || bad "live: schema: $(head -5 "$D/schema-live.txt")"
	wrk_check "$port" "$tpid" live
	http_checks "$port" "$tpid" live
	kill "$ppid"; kill -TERM "$tpid"; kill "$WPID"; wait "$tpid" 2>/dev/null
}

t_snapshot() {
	local tpid rc want
	start_workload ws -n 128 -r 10 -v 2 || return
	"$TOOL" -v -p "$WPID" --until-exit -o json >"$D/snap.json" 2>"$D/snap.err" &
	tpid=$!; BG+=("$tpid")
	# start the VM only once the collector says it is attached (-v); a
	# fixed sleep lost the first events on a loaded machine
	local i
	for i in $(seq 600); do
		grep -q 'attached' "$D/snap.err" 2>/dev/null && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'attached' "$D/snap.err" || { bad "snapshot: collector never attached: $(tail -3 "$D/snap.err")"; return; }
	kill -USR1 "$WPID"
	wait_result ws || return
	wait "$tpid"; rc=$?
	[ $rc = 0 ] || { bad "snapshot: kvm-lazytop exited $rc: $(tail -3 "$D/snap.err")"; return; }
	python3 "$TOP/tests/host/exports/validate-schema.py" "$TOP/tools/kvm-lazytop/snapshot.schema.json" "$D/snap.json" >"$D/schema.txt" 2>&1 &&
		ok "snapshot: real snapshot (-o json) valid against snapshot.schema.json" || bad "snapshot: schema: $(head -5 "$D/schema.txt")"
	want=$(sed -E 's/.* dirty_pages=([0-9]+).*/\1/' <<<"$RESULT")
	printf '# exact counts of tests/workloads/dirty_ring_vm -n 128 -r 10 -v 2\ndirty_pages == %s min_samples %s\nkvm_runs == %s\nfpu_loads >= 0\nkvm_run_ns.count >= 1\noverhead.drops.vcpu_map_full == 0\nvcpu_load_fast ratio >= 0.9 optional\ngstage_fault_fast / gstage_fault_* >= 0.99 min_samples 10000 optional\n' \
		"$want" "$want" "$(sed -E 's/.* kvm_runs=([0-9]+).*/\1/' <<<"$RESULT")" >"$D/host.rules"
	"$TOOL" gate --rules "$D/host.rules" "$D/snap.json" --junit "$D/host.junit.xml" >"$D/gate.txt" 2>&1; rc=$?
	sed 's/^/      /' "$D/gate.txt"
	[ $rc = 0 ] && ok "snapshot: kvm-lazytop gate on the real snapshot exits 0" || bad "snapshot: gate exited $rc"
	"$TOOL" gate --rules "$D/host.rules" "$D/snap.json" --baseline "$D/snap.json" >/dev/null 2>&1; rc=$?
	printf 'dirty_pages == %s\n' $((want + 1)) >"$D/host-fail.rules"
	"$TOOL" gate --rules "$D/host-fail.rules" "$D/snap.json" >/dev/null 2>&1; rc=$?
	[ $rc = 1 ] && ok "snapshot: an off-by-one dirty_pages rule fails (exit 1)" || bad "snapshot: off-by-one rule exit $rc"
	"$TOOL" report "$D/snap.json" >"$D/report.txt" 2>&1 && grep -q "$WPID" "$D/report.txt" &&
		ok "snapshot: kvm-lazytop report renders the real snapshot" || bad "snapshot: report"
	"$TOOL" diff "$D/snap.json" "$D/snap.json" >"$D/diff.txt" 2>&1 && ok "snapshot: kvm-lazytop diff" || bad "snapshot: diff"
	"$TOOL" report --html "$D/real.html" "$D/snap.json" && ok "snapshot: report --html" || bad "snapshot: report --html"
	kill "$WPID" 2>/dev/null
}

chromium_check() {	# chromium_check LABEL HTML SNAP...
	local label=$1 html=$2 F n; shift 2
	F=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
	   --disable-component-update --disable-sync)
	rm -rf "$D/chr-$label"; mkdir -p "$D/chr-$label"
	timeout 120 chromium "${F[@]}" --user-data-dir="$D/chr-$label/u1" --enable-logging=stderr --v=0 \
		--dump-dom "file://$html" >"$D/chr-$label/dom.html" 2>"$D/chr-$label/log.txt" ||
		{ bad "html $label: chromium --dump-dom failed"; return; }
	timeout 120 chromium "${F[@]}" --user-data-dir="$D/chr-$label/u2" --window-size=1200,2400 \
		--screenshot="$D/chr-$label/shot.png" "file://$html" >/dev/null 2>>"$D/chr-$label/log.txt" ||
		{ bad "html $label: chromium --screenshot failed"; return; }
	n=$(grep -Eic 'CONSOLE|Uncaught|Refused to|net::ERR' "$D/chr-$label/log.txt")
	[ "$n" = 0 ] && ok "html $label: no console errors, no blocked/failed loads" ||
		bad "html $label: console/network errors: $(grep -Ei 'CONSOLE|Uncaught|Refused to|net::ERR' "$D/chr-$label/log.txt" | head -3)"
	python3 "$TOP/tests/host/exports/html_check.py" "$D/chr-$label/dom.html" "$D/chr-$label/shot.png" "$@" >"$D/chr-$label/check.txt" 2>&1 && rc=0 || rc=$?
	sed 's/^/      /' "$D/chr-$label/check.txt"
	[ $rc = 0 ] && ok "html $label: chart bar/series counts and non-blank screenshot" || bad "html $label: chart check"
}

t_html() {
	need chromium || return
	local A=$TOP/tests/unit/exports/data/base.json B=$TOP/tests/unit/exports/data/regressed.json
	"$KL" report --html "$D/ab.html" "$A" "$B" || { bad "html: report --html"; return; }
	chromium_check fixtures "$D/ab.html" "$A" "$B"
	if [ -s "$D/snap.json" ]; then
		"$KL" report --html "$D/real2.html" "$D/snap.json" "$D/snap.json" && chromium_check real "$D/real2.html" "$D/snap.json" "$D/snap.json"
	fi
}

for t in $TESTS; do
	echo "  --- exports: $t"
	"t_$t"
done
echo "exports host tests: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
