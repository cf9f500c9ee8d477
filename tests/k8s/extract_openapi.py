#!/usr/bin/env python3
"""Extract the definitions Drover validates against from the full Kubernetes OpenAPI v2
document (../shared/k8s-openapi/swagger.json: kubernetes-client/c commit edf13194,
release-1.34), following $refs, into openapi-subset.json. Re-run after changing the kinds.

usage: extract_openapi.py SWAGGER.json > openapi-subset.json
"""
import json
import sys

ROOTS = [
    "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodList", "io.k8s.api.core.v1.Secret",
    "io.k8s.api.core.v1.SecretList", "io.k8s.api.core.v1.Namespace",
    "io.k8s.api.core.v1.ServiceAccount", "io.k8s.api.core.v1.Service",
    "io.k8s.api.core.v1.ConfigMap", "io.k8s.api.apps.v1.Deployment",
    "io.k8s.api.rbac.v1.Role", "io.k8s.api.rbac.v1.RoleBinding",
    "io.k8s.api.networking.v1.NetworkPolicy", "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
]


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.add(v.split("/")[-1])
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    spec = json.load(open(sys.argv[1]))
    defs = spec["definitions"]
    keep, todo = set(), list(ROOTS)
    while todo:
        n = todo.pop()
        if n in keep:
            continue
        keep.add(n)
        found = set()
        refs(defs[n], found)
        todo += sorted(found - keep)
    out = {"swagger": spec.get("swagger", "2.0"), "info": spec.get("info", {}),
           "x-drover-source": "kubernetes-client/c edf13194 kubernetes/swagger.json.unprocessed "
                              "(release-1.34), definitions reachable from: " + ", ".join(ROOTS),
           "definitions": {}}
    for n in sorted(keep):
        d = dict(defs[n])
        d.pop("description", None)  # size: descriptions are documentation, not schema
        for p in (d.get("properties") or {}).values():
            p.pop("description", None)
        out["definitions"][n] = d
    json.dump(out, sys.stdout, indent=0, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
