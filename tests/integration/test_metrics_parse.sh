#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# /metrics of a live satpd, read by the reference Prometheus parser
# (python3-prometheus-client's text parser) rather than by grep: the whole
# text must parse, and every family satp.8's METRICS section (and README)
# names must be served with the type the page gives it: a name ending in
# _total is a counter, any other a gauge (the page says so). The list is read
# from the page itself, so a family documented but not served fails here.
# satpd_daemon_NAME_total and satpd_conn_NAME_total (or satpd_conn_NAME, a
# state) are templates: every daemon and per-connection counter of
# `satp show --json` must be served as one, or be a gauge the page names
# (satpd_daemon_connections). The other way too: every family served must be
# documented, by name or by a template. A family the page says appears "only
# where" something holds is required when that holds (AF_XDP sockets: show
# --json's xdp.xsks is not null).
#
#   netns st$$-a                                  netns st$$-b
#   +--------------------------------+            +-----------------------------+
#   | satpd (XDP native on ul0)      |   veth     | satpd (--xdp-mode off)      |
#   |   tun0 10.99.0.1  -s 1         |<---------->|   tun0 10.99.0.2  -s 2      |
#   |   --metrics 127.0.0.1:9481     |  ul0       |                             |
#   +--------------------------------+            +-----------------------------+
. "$(dirname "$0")/lib.sh"

K128=000102030405060708090a0b0c0d0e0f
SALT=a0a1a2a3a4a5a6a7a8a9aaabacad
SATP=$BUILD/satp
MPORT=9481
# Debian's python3, where python3-prometheus-client is (another python3 may come first in PATH).
PY=${PYTHON_PROM:-/usr/bin/python3}
MAN=$REPO_ROOT/user/satp/satp.8

lib_init
require_cmd curl
[ -x "$SATP" ] || fail "$SATP not built"
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "python3-prometheus-client is not installed for $PY (scripts/deps.sh installs it)"
bpffs_init
topo_pair a b

# A requests native XDP: a fallback is a startup error, so every XDP family must be there.
start_bg a satpd-a.log "$SATPD" -U --state-dir "$TMP/state-a" --pin-root "$TMP/bpf/a" \
	--xdp-mode native --metrics 127.0.0.1:$MPORT \
	-i "$UL4_1" -r "$UL4_2" -e left -s 1 -w 64 -d tun0 -t tun -n 10.99.0.1/24 -K $K128 -A $SALT
start_bg b satpd-b.log "$SATPD" -U --state-dir "$TMP/state-b" --pin-root "$TMP/bpf/b" \
	--xdp-mode off \
	-i "$UL4_2" -r "$UL4_1" -e right -s 2 -w 64 -d tun0 -t tun -n 10.99.0.2/24 -K $K128 -A $SALT
wait_ping b 10.99.0.1 10 || fail "no ping through the tunnel: $(cat "$TMP"/satpd-*.log)"
# Traffic both ways: per-sender series (A's window of sender 2) and per-connection rx/tx.
nsx b ping -c 5 -i 0.05 -q 10.99.0.1 >/dev/null || fail "pings lost"

nsx a "$SATP" show ul0 --json --pin-root "$TMP/bpf/a" --socket "$(ctl_sock a-satpd-a)" \
	>"$TMP/show.json" 2>&1 || fail "show --json: $(cat "$TMP/show.json")"
nsx a curl -sf "http://127.0.0.1:$MPORT/metrics" >"$TMP/metrics.txt" || fail "curl /metrics"

"$PY" - "$MAN" "$REPO_ROOT/README.md" "$TMP/metrics.txt" "$TMP/show.json" <<'EOF' || fail "/metrics against satp.8"
import itertools, json, re, sys
from prometheus_client.parser import text_string_to_metric_families

man, readme, text, show = (open(p).read() for p in sys.argv[1:5])

# The METRICS section as one line of text, and every bold name in it.
sect = re.search(r"^\.SH METRICS\n(.*?)^\.SH ", man, re.S | re.M).group(1).replace("\n", " ")
tokens = re.findall(r"\\fB(satpd_(?:[^\\]|\\f[IB])*?)\\fR", sect)
assert tokens, "no satpd_ names in satp.8's METRICS section"
assert "are counters, the others gauges" in sect, "satp.8 no longer says which families are counters"

def expand(tok):
    """satpd_conn_{rx,tx}_x_total{mux} -> names with their documented labels (or None)."""
    labels = None
    m = re.match(r"^(.*?)\{([a-z_,]+)\}$", tok)  # a brace group at the end: labels
    if m:
        tok, labels = m.group(1), set(m.group(2).split(","))
    parts = re.split(r"\{([a-z_,]+)\}", tok)
    alts = [p.split(",") if i % 2 else [p] for i, p in enumerate(parts)]
    return [("".join(c), labels) for c in itertools.product(*alts)]

documented = {}  # name -> (labels or None, conditional)
templates = set()  # satpd_daemon_\fIname\fB_total: one family per counter of show --json
for tok in tokens:
    if "\\fI" in tok:
        templates.add(re.sub(r"\{[a-z_,]+\}$", "", re.sub(r"\\fI.*?\\fB", "*", tok)))
        continue
    after = sect[sect.index(tok) + len(tok):][:40]
    for name, labels in expand(tok):
        documented[name] = (labels, "(only where" in after)
# README names families in backquotes.
for name in re.findall(r"`(satpd_[a-z0-9_]+)`", readme):
    documented.setdefault(name, (None, False))
assert templates == {"satpd_daemon_*_total", "satpd_conn_*_total", "satpd_conn_*"}, templates
# The page names 22 families today: far fewer means this reader lost track of it.
assert len(documented) >= 20, sorted(documented)

fams = {f.name: f for f in text_string_to_metric_families(text)}  # raises on a bad line
# Every family is declared: a sample without its # TYPE parses as "unknown".
untyped = sorted(n for n, f in fams.items() if f.type not in ("counter", "gauge"))
assert not untyped, f"families without a counter or gauge TYPE: {untyped}"

def served(name):
    """The family behind a documented name, and the type the page gives it."""
    want = "counter" if name.endswith("_total") else "gauge"
    # the parser names a counter family without its _total
    return fams.get(name[:-6] if want == "counter" else name), want

i = json.loads(show)["interfaces"][0]
conditions = {"satpd_xdp_sockets": i["xdp"]["xsks"] is not None}
bad = []
for name, (labels, conditional) in sorted(documented.items()):
    f, want = served(name)
    if conditional and not conditions.get(name, True):
        continue
    if f is None:
        bad.append(f"{name}: documented, not served")
    elif f.type != want:
        bad.append(f"{name}: served as {f.type}, documented as a {want}")
    elif labels is not None:
        for s in f.samples:
            if set(s.labels) != labels:
                bad.append(f"{name}: sample labels {sorted(s.labels)}, documented {sorted(labels)}")
                break
    if f is not None and not f.samples:
        bad.append(f"{name}: a family without samples")
# The templates: each counter of show --json's daemon and connections, served as a counter
# PREFIX_NAME_total, or as a gauge PREFIX_NAME where a template or the page's own list says so.
sources = {"satpd_daemon_": set(i["daemon"]["counters"]),
           "satpd_conn_": {c for conn in i["daemon"]["connections"] for c in conn["counters"]}}
assert sources["satpd_conn_"], "no per-connection counters in show --json to check"
for prefix, names in sources.items():
    for c in sorted(names):
        name = prefix + re.sub(r"[^a-z0-9_]", "_", c)
        if name in documented:  # the page names it: checked above
            continue
        f = fams.get(name)
        if f is None:
            bad.append(f"counter {c} of show --json: no family {name}[_total]")
        elif f.type == "counter" and prefix + "*_total" not in templates:
            bad.append(f"{name}_total: served, no template of the page says so")
        elif f.type == "gauge" and prefix + "*" not in templates:
            bad.append(f"{name}: served as a gauge, the page's template says counter")
# And the other way: every family served is documented, by name or by a template.
known = {served(n)[0].name for n in documented if served(n)[0]}
known |= {p + re.sub(r"[^a-z0-9_]", "_", c) for p, names in sources.items() for c in names}
bad += [f"{f}: served, not documented in satp.8" for f in sorted(set(fams) - known)]
assert not bad, "\n  ".join([""] + bad)
EOF
echo "ok   /metrics parses (prometheus_client); every family satp.8 and README name is served with its type"
echo PASS
