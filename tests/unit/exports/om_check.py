#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Structural check of an OpenMetrics 1.0.0 text exposition (what
kvm-lazytop emits; promtool 2.42 only lints the 0.0.4 text format).

Checks: UTF-8, no blank line, ends with exactly one "# EOF"; each family
has one TYPE (and at most one HELP) before its samples and its samples
are contiguous (a family never reappears); metric and label names valid;
label values correctly escaped, no duplicate label names or series;
counters: family name without _total, samples only NAME_total /
NAME_created; gauges: samples named as the family; histograms: per label
set, _bucket le ascending ending with +Inf, cumulative counts
non-decreasing, _count == +Inf bucket, _sum present; values are numbers.
usage: om_check.py FILE   (prints "om_check: N families, M samples: ok")"""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LNAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "gaugehistogram", "summary", "info",
         "stateset", "unknown"}


class Bad(Exception):
    pass


def parse_labels(s, i, ln):
    """s[i] == '{'; returns (labels list, index after '}')."""
    labels = []
    i += 1
    while True:
        if s[i] == "}":
            return labels, i + 1
        m = LNAME.match(s, i)
        if not m:
            raise Bad(f"line {ln}: bad label name at column {i}")
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad(f"line {ln}: expected =\" after label {name}")
        i += 2
        val = []
        while True:
            c = s[i]
            if c == "\\":
                n = s[i + 1]
                if n not in 'n"\\':
                    raise Bad(f"line {ln}: bad escape \\{n} in label {name}")
                val.append({"n": "\n", '"': '"', "\\": "\\"}[n])
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Bad(f"line {ln}: raw newline in label {name}")
            else:
                if ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0:
                    raise Bad(f"line {ln}: control character U+{ord(c):04X} in label {name}")
                val.append(c)
                i += 1
        labels.append((name, "".join(val)))
        if s[i] == ",":
            i += 1
        elif s[i] != "}":
            raise Bad(f"line {ln}: expected , or }} after label {name}")


def number(v, ln):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", v):
        raise Bad(f"line {ln}: bad number {v!r}")
    return float(v)


def check(text):
    if not text.endswith("# EOF\n"):
        raise Bad("does not end with '# EOF\\n'")
    lines = text[:-len("# EOF\n")].split("\n")
    if lines[-1] != "":
        raise Bad("no newline before # EOF")
    lines = lines[:-1]
    fams = {}          # name -> {"type", "help", "series": {...}}
    order = []         # families in order of appearance
    cur = None
    nsamples = 0
    for ln, line in enumerate(lines, 1):
        if line == "":
            raise Bad(f"line {ln}: blank line")
        if line.startswith("#"):
            m = re.fullmatch(r"# (TYPE|HELP|UNIT) (\S+)(?: (.*))?", line)
            if not m:
                raise Bad(f"line {ln}: bad comment/metadata line: {line!r}")
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if not NAME.fullmatch(name):
                raise Bad(f"line {ln}: bad family name {name}")
            if name not in fams:
                fams[name] = {"type": None, "help": None, "samples": 0, "series": {}}
                order.append(name)
            elif cur != name:
                raise Bad(f"line {ln}: family {name} reappears (not contiguous)")
            f = fams[name]
            if f["samples"]:
                raise Bad(f"line {ln}: {kind} of {name} after its samples")
            if kind == "TYPE":
                if f["type"]:
                    raise Bad(f"line {ln}: second TYPE for {name}")
                if rest not in TYPES:
                    raise Bad(f"line {ln}: unknown type {rest}")
                if rest == "counter" and name.endswith("_total"):
                    raise Bad(f"line {ln}: counter family {name} must not end in _total")
                f["type"] = rest
            elif kind == "HELP":
                if f["help"] is not None:
                    raise Bad(f"line {ln}: second HELP for {name}")
                if re.search(r'\\[^n"\\]', rest):
                    raise Bad(f"line {ln}: bad escape in HELP of {name}")
                f["help"] = rest
            cur = name
            continue
        m = NAME.match(line)
        if not m:
            raise Bad(f"line {ln}: bad sample line {line!r}")
        sname = m.group(0)
        i = m.end()
        labels = []
        if i < len(line) and line[i] == "{":
            labels, i = parse_labels(line, i, ln)
        if line[i:i + 1] != " ":
            raise Bad(f"line {ln}: expected a space before the value")
        parts = line[i + 1:].split(" ")
        if len(parts) not in (1, 2):
            raise Bad(f"line {ln}: trailing garbage")
        value = number(parts[0], ln)
        names = [k for k, _ in labels]
        if len(set(names)) != len(names):
            raise Bad(f"line {ln}: duplicate label name")
        if cur is None or fams[cur]["type"] is None:
            raise Bad(f"line {ln}: sample {sname} before any TYPE")
        f = fams[cur]
        t = f["type"]
        suffix = sname[len(cur):] if sname.startswith(cur) else None
        allowed = {"counter": ("_total", "_created"), "gauge": ("",), "info": ("_info",),
                   "histogram": ("_bucket", "_count", "_sum", "_created"),
                   "unknown": ("",)}.get(t, ("",))
        if suffix not in allowed:
            raise Bad(f"line {ln}: sample {sname} does not belong to {t} family {cur}")
        key_labels = tuple(sorted((k, v) for k, v in labels if not (suffix == "_bucket" and k == "le")))
        series = f["series"].setdefault(key_labels, {"buckets": [], "seen": set(), "closed": False})
        if f["series"] and list(f["series"])[-1] != key_labels:
            raise Bad(f"line {ln}: samples of one label set are not contiguous in {cur}")
        if suffix == "_bucket":
            le = dict(labels).get("le")
            if le is None:
                raise Bad(f"line {ln}: bucket without le")
            series["buckets"].append((number(le, ln), value))
        else:
            if (suffix, key_labels) in series["seen"]:
                raise Bad(f"line {ln}: duplicate series {sname}{dict(labels)}")
            series["seen"].add((suffix, key_labels))
            series[suffix] = value
        if t == "counter" and (value < 0 or math.isnan(value)):
            raise Bad(f"line {ln}: counter {sname} = {value}")
        f["samples"] += 1
        nsamples += 1
    for name in order:
        f = fams[name]
        if f["type"] is None:
            raise Bad(f"family {name} has no TYPE")
        if f["type"] != "histogram":
            continue
        for lbl, s in f["series"].items():
            b = s["buckets"]
            if not b or b[-1][0] != math.inf:
                raise Bad(f"histogram {name}{dict(lbl)}: no +Inf bucket")
            for (l0, c0), (l1, c1) in zip(b, b[1:]):
                if not l1 > l0:
                    raise Bad(f"histogram {name}{dict(lbl)}: le not ascending at {l1}")
                if c1 < c0:
                    raise Bad(f"histogram {name}{dict(lbl)}: bucket count decreases at le={l1}")
            if s.get("_count") != b[-1][1]:
                raise Bad(f"histogram {name}{dict(lbl)}: _count {s.get('_count')} != +Inf bucket {b[-1][1]}")
            if "_sum" not in s:
                raise Bad(f"histogram {name}{dict(lbl)}: no _sum")
    return len(order), nsamples


def main():
    data = open(sys.argv[1], "rb").read()
    try:
        text = data.decode("utf-8")
        nf, ns = check(text)
    except (Bad, UnicodeDecodeError, IndexError) as e:
        print(f"om_check: {sys.argv[1]}: {e}")
        return 1
    print(f"om_check: {nf} families, {ns} samples: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
