#!/usr/bin/env python3
"""Strict validation of Kubernetes objects against the API's OpenAPI v2 definitions.

Every object definition is treated as `additionalProperties: false` (kubeconform's -strict):
a misspelt field, a field in the wrong place or a wrong type fails. Maps (definitions with
`additionalProperties`) validate their values. Used by the tests on:
  - every manifest under k8s/ (YAML, multi-document) and `kubectl kustomize k8s/`,
  - every request body Drover sent to the fake API server (a JSON-lines record).

usage: k8s_validate.py [--spec swagger.json] FILE...       (YAML/JSON objects with apiVersion/kind)
       k8s_validate.py [--spec swagger.json] --bodies REQUESTS.jsonl
Exit status 0 when everything is valid, 1 otherwise (each problem printed with its JSON path).

The spec: --spec, else $DROVER_K8S_OPENAPI, else ../shared/k8s-openapi/swagger.json next to
the source tree, else the subset vendored beside this file (openapi-subset.json, extracted from
the same document by extract_openapi.py).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def find_spec(explicit):
    cands = [explicit, os.environ.get("DROVER_K8S_OPENAPI")]
    src = os.environ.get("DROVER_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
    cands += [os.path.join(src, "..", "shared", "k8s-openapi", "swagger.json"),
              "/work/shared/k8s-openapi/swagger.json",
              os.path.join(HERE, "openapi-subset.json")]
    for c in cands:
        if c and os.path.exists(c):
            return c
    sys.exit("k8s_validate: no OpenAPI document found")


class Validator:
    def __init__(self, spec):
        self.defs = spec["definitions"]
        self.by_gvk = {}
        for name, d in self.defs.items():
            for gvk in d.get("x-kubernetes-group-version-kind", []):
                api = gvk["version"] if not gvk["group"] else gvk["group"] + "/" + gvk["version"]
                self.by_gvk[(api, gvk["kind"])] = name

    def definition_for(self, obj):
        key = (obj.get("apiVersion"), obj.get("kind"))
        return self.by_gvk.get(key)

    partial = False  # merge patches: every field optional

    def check(self, schema, value, path, errs, refname=None):
        if "$ref" in schema:
            name = schema["$ref"].split("/")[-1]
            return self.check(self.defs[name], value, path, errs, name)
        if "allOf" in schema:
            for s in schema["allOf"]:
                self.check(s, value, path, errs)
            return
        t = schema.get("type")
        fmt = schema.get("format")
        if refname == QUANTITY:
            if not (isinstance(value, str) or (isinstance(value, (int, float))
                                               and not isinstance(value, bool))):
                errs.append(f"{path}: want a quantity (string or number), got {type(value).__name__}")
            return
        if fmt == "int-or-string":
            if not (isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))):
                errs.append(f"{path}: want an int or a string, got {type(value).__name__}")
            return
        if t is None and "properties" not in schema:
            return  # free-form (RawExtension, JSON, FieldsV1)
        if t == "object" or "properties" in schema:
            if not isinstance(value, dict):
                errs.append(f"{path}: want an object, got {type(value).__name__}")
                return
            props = schema.get("properties")
            addl = schema.get("additionalProperties")
            for req in ([] if self.partial else schema.get("required", [])):
                if req not in value:
                    errs.append(f"{path}: missing required field '{req}'")
            for k, v in value.items():
                if props is not None and k in props:
                    self.check(props[k], v, f"{path}.{k}", errs)
                elif isinstance(addl, dict):
                    self.check(addl, v, f"{path}.{k}", errs)
                elif props is not None or addl is False:
                    errs.append(f"{path}: unknown field '{k}'")
            return
        if t == "array":
            if not isinstance(value, list):
                errs.append(f"{path}: want an array, got {type(value).__name__}")
                return
            for i, v in enumerate(value):
                self.check(schema.get("items", {}), v, f"{path}[{i}]", errs)
            return
        ok = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
        }.get(t)
        if ok and not ok(value):
            errs.append(f"{path}: want {t}, got {type(value).__name__} {json.dumps(value)[:40]}")
            return
        if "enum" in schema and value not in schema["enum"]:
            errs.append(f"{path}: {value!r} is not one of {schema['enum']}")

    def validate(self, obj, where, defname=None):
        errs = []
        if not isinstance(obj, dict):
            return [f"{where}: not an object"]
        name = defname or self.definition_for(obj)
        if not name:
            return [f"{where}: unknown apiVersion/kind {obj.get('apiVersion')}/{obj.get('kind')}"]
        self.check(self.defs[name], obj, where, errs, name)
        return errs


def load_docs(path):
    with open(path) as f:
        text = f.read()
    if path.endswith(".json"):
        return [json.loads(text)]
    import yaml  # python3-yaml
    return [d for d in yaml.safe_load_all(text) if d is not None]


# Request bodies: which definition a (method, path) body must satisfy when it has no kind.
def body_definition(method, path, body):
    if method == "DELETE":
        return "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
    return None


def main(argv):
    spec_path = None
    bodies = None
    files = []
    it = iter(argv)
    for a in it:
        if a == "--spec":
            spec_path = next(it)
        elif a == "--bodies":
            bodies = next(it)
        else:
            files.append(a)
    with open(find_spec(spec_path)) as f:
        v = Validator(json.load(f))
    problems = []
    checked = 0
    for path in files:
        for i, doc in enumerate(load_docs(path)):
            items = doc.get("items", []) if doc.get("kind", "").endswith("List") and "items" in doc else [doc]
            for j, obj in enumerate(items):
                problems += v.validate(obj, f"{path}#{i}.{j}")
                checked += 1
    if bodies:
        with open(bodies) as f:
            for n, line in enumerate(f):
                rec = json.loads(line)
                if rec.get("body") is None:
                    continue
                defname = None if "kind" in rec["body"] and "apiVersion" in rec["body"] else \
                    body_definition(rec["method"], rec["path"], rec["body"])
                if rec["body"].get("kind") == "DeleteOptions":
                    defname = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
                # A merge patch is a partial object of the resource it patches.
                v.partial = rec["method"] == "PATCH"
                if v.partial:
                    defname = {"pods": "io.k8s.api.core.v1.Pod",
                               "secrets": "io.k8s.api.core.v1.Secret"}.get(rec["path"].split("/")[5])
                problems += v.validate(rec["body"], f"{rec['method']} {rec['path']} (line {n + 1})",
                                       defname)
                v.partial = False
                checked += 1
    for p in problems:
        print("INVALID", p)
    print(f"k8s_validate: {checked} object(s) checked, {len(problems)} problem(s)")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
