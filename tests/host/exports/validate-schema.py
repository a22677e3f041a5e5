#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Validate kvm-lazytop snapshots against tools/kvm-lazytop/snapshot.schema.json
(JSON Schema draft 2020-12).  usage: validate-schema.py SCHEMA SNAPSHOT...
Exit 0 when every snapshot is valid, 1 otherwise (errors printed)."""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in sys.argv[2:]:
        errs = sorted(v.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
        for e in errs[:20]:
            print(f"{path}: /{'/'.join(map(str, e.path))}: {e.message[:200]}")
        if errs:
            bad += 1
        else:
            print(f"{path}: valid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
