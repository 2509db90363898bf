#!/usr/bin/env python3
"""Validates JSON documents, one per line, against a JSON Schema (Draft 2020-12).

    validate_events.py SCHEMA_FILE EVENTS_FILE

Format keywords are asserted (FormatChecker). Formats the installed jsonschema
cannot check without optional packages (date-time, uri, ...) get a strict
fallback checker here, so a check never passes silently. Prints every error as
"line N: <path>: <message>" and exits 1 if there is any, 0 otherwise.
"""
import json
import re
import sys
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def check_date_time(value):
    return not isinstance(value, str) or RFC3339.match(value) is not None


def check_uri(value):
    if not isinstance(value, str):
        return True
    if any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and SCHEME.match(parts.scheme) is not None


def check_uri_reference(value):
    return not isinstance(value, str) or not any(c.isspace() for c in value)


def make_format_checker():
    checker = FormatChecker()
    fallbacks = {"date-time": check_date_time, "uri": check_uri, "iri": check_uri,
                 "uri-reference": check_uri_reference, "iri-reference": check_uri_reference}
    for name, func in fallbacks.items():
        if name not in checker.checkers:
            checker.checks(name)(func)
    return checker


def main(argv):
    if len(argv) != 3:
        print("usage: validate_events.py SCHEMA_FILE EVENTS_FILE", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=make_format_checker())
    errors = 0
    with open(argv[2], encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"line {number}: not JSON: {e}")
                errors += 1
                continue
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
                path = "/" + "/".join(str(p) for p in error.absolute_path)
                print(f"line {number}: {path}: {error.message}")
                errors += 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
