#!/usr/bin/env python3
"""Validates a JSON document against a JSON Schema (draft-07), for the grader's own tests.

    python3 tests/grader/validate_schema.py SCHEMA DOCUMENT

Implements the part of draft-07 that docs/grade-report.schema.json uses: type, enum, const, required,
properties, additionalProperties, items, minimum, pattern, oneOf and local $ref. A keyword outside that
part is an error, so the schema cannot quietly use something unchecked. When the jsonschema package is
installed, the document is checked with it too. Prints each problem with its JSON path; exits 1 if any.
"""
import json
import re
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
ANNOTATIONS = {"$schema", "$id", "title", "description", "definitions"}


def resolve(root, ref):
    if not ref.startswith("#/"):
        raise ValueError("only local references are supported: " + ref)
    node = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def validate(root, schema, value, path, problems):
    unknown = set(schema) - ANNOTATIONS - {"$ref", "type", "enum", "const", "required", "properties",
                                           "additionalProperties", "items", "minimum", "pattern", "oneOf"}
    if unknown:
        raise ValueError("%s: the validator does not know %s" % (path, sorted(unknown)))
    if "$ref" in schema:
        validate(root, resolve(root, schema["$ref"]), value, path, problems)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            problems.append("%s: expected %s, got %s" % (path, " or ".join(types), json.dumps(value)[:80]))
            return
    if "enum" in schema and value not in schema["enum"]:
        problems.append("%s: %s is not one of %s" % (path, json.dumps(value), schema["enum"]))
    if "const" in schema and value != schema["const"]:
        problems.append("%s: expected %s" % (path, json.dumps(schema["const"])))
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        problems.append("%s: %s is below %s" % (path, value, schema["minimum"]))
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        problems.append("%s: %s does not match %s" % (path, json.dumps(value), schema["pattern"]))
    if "oneOf" in schema:
        matches = 0
        for sub in schema["oneOf"]:
            sub_problems = []
            validate(root, sub, value, path, sub_problems)
            matches += not sub_problems
        if matches != 1:
            problems.append("%s: matches %d of the oneOf alternatives, not exactly 1" % (path, matches))
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                problems.append("%s: %s is missing" % (path, key))
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                validate(root, props[key], item, "%s.%s" % (path, key), problems)
            elif schema.get("additionalProperties", True) is False:
                problems.append("%s: unexpected field %s" % (path, key))
    if isinstance(value, list) and "items" in schema:
        for k, item in enumerate(value):
            validate(root, schema["items"], item, "%s[%d]" % (path, k), problems)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(argv[2], encoding="utf-8") as f:
        document = json.load(f)
    problems = []
    validate(schema, schema, document, "$", problems)
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
    if jsonschema is not None:
        for error in jsonschema.Draft7Validator(schema).iter_errors(document):
            problems.append("jsonschema: %s: %s" % ("/".join(map(str, error.path)), error.message))
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
