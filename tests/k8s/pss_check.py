#!/usr/bin/env python3
"""Check pods against the Kubernetes Pod Security Standards, `restricted` level.

The namespace Drover's agents run in is labelled pod-security.kubernetes.io/enforce=restricted
(k8s/namespace.yaml), so an agent pod that breaks a control is refused by the API server. The
fake API server does not enforce admission, and k8s_validate.py checks only the schema: this
script applies the controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/
(baseline and restricted, as of v1.30) to every Pod, and to the pod template of every
Deployment/Job/ReplicaSet/StatefulSet/DaemonSet, in the files given (YAML multi-document or
JSON; with --bodies, the JSON-lines request record of tests/k8s/fake_apiserver.py).

usage: pss_check.py FILE...          pss_check.py --bodies REQUESTS.jsonl [--field-manager NAME]
(--field-manager: only the requests sent with that fieldManager, e.g. droverd's own, not the
objects a test planted with curl.)
Exit status 0 when every pod meets the restricted level, 1 otherwise (each violation printed).
"""
import json
import sys
from urllib.parse import parse_qs

import yaml

SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret"}
BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                 "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t",
                 "container_engine_t"}
WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}


def pod_specs(obj, where):
    kind = obj.get("kind")
    if kind == "Pod":
        yield where, obj.get("spec") or {}
    elif kind in WORKLOADS:
        yield where, ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    elif kind == "CronJob":
        job = ((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        yield where, (job.get("template") or {}).get("spec") or {}


def check(spec, where):
    bad = []

    def v(msg):
        bad.append(f"{where}: {msg}")

    psc = spec.get("securityContext") or {}
    conts = [("containers", c) for c in spec.get("containers") or []]
    conts += [("initContainers", c) for c in spec.get("initContainers") or []]
    conts += [("ephemeralContainers", c) for c in spec.get("ephemeralContainers") or []]
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(f):
            v(f"spec.{f} must be unset or false")
    if (psc.get("windowsOptions") or {}).get("hostProcess"):
        v("spec.securityContext.windowsOptions.hostProcess")
    for s in psc.get("sysctls") or []:
        if s.get("name") not in SAFE_SYSCTLS:
            v(f"unsafe sysctl {s.get('name')}")
    if (psc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
        v("spec.securityContext.seLinuxOptions.type")
    if (psc.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
        v("spec.securityContext.appArmorProfile.type")
    for vol in spec.get("volumes") or []:
        kinds = set(vol) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            v(f"volume {vol.get('name')}: type {sorted(kinds - RESTRICTED_VOLUMES)} not allowed")
    pod_nonroot = psc.get("runAsNonRoot") is True
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        v(f"spec.securityContext.seccompProfile.type {pod_seccomp}")
    if psc.get("runAsUser") == 0:
        v("spec.securityContext.runAsUser 0")
    for field, c in conts:
        name = f"{field}[{c.get('name')}]"
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            v(f"{name}: privileged")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            v(f"{name}: hostProcess")
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                v(f"{name}: hostPort {p['hostPort']}")
        if sc.get("procMount") not in (None, "Default"):
            v(f"{name}: procMount {sc['procMount']}")
        if (sc.get("seLinuxOptions") or {}).get("type") not in SELINUX_TYPES:
            v(f"{name}: seLinuxOptions.type")
        if (sc.get("appArmorProfile") or {}).get("type") not in (None, "RuntimeDefault", "Localhost"):
            v(f"{name}: appArmorProfile.type")
        caps = sc.get("capabilities") or {}
        add = set(caps.get("add") or [])
        if not add <= BASELINE_CAPS:
            v(f"{name}: capabilities.add {sorted(add - BASELINE_CAPS)} (baseline)")
        if not add <= {"NET_BIND_SERVICE"}:
            v(f"{name}: capabilities.add may hold only NET_BIND_SERVICE")
        if "ALL" not in (caps.get("drop") or []):
            v(f"{name}: capabilities.drop must contain ALL")
        if sc.get("allowPrivilegeEscalation") is not False:
            v(f"{name}: allowPrivilegeEscalation must be false")
        nonroot = sc.get("runAsNonRoot")
        if nonroot is False or (nonroot is None and not pod_nonroot):
            v(f"{name}: runAsNonRoot must be true (container or pod)")
        if sc.get("runAsUser") == 0:
            v(f"{name}: runAsUser 0")
        seccomp = (sc.get("seccompProfile") or {}).get("type")
        if seccomp is None:
            seccomp = pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            v(f"{name}: seccompProfile must be RuntimeDefault or Localhost (container or pod)")
    return bad


def objects(path, bodies, manager):
    with open(path) as f:
        if bodies:
            for i, line in enumerate(f, 1):
                rec = json.loads(line)
                query = parse_qs(rec.get("query") or "")
                if manager and manager not in query.get("fieldManager", []):
                    continue
                body = rec.get("body")
                if isinstance(body, dict):
                    yield f"{path}:{i}", body
            return
        for i, doc in enumerate(yaml.safe_load_all(f)):
            if isinstance(doc, dict):
                for item in doc.get("items") or [doc]:
                    yield f"{path}#{i}", item


def main(argv):
    bodies = argv[:1] == ["--bodies"]
    files = argv[1:] if bodies else argv
    manager = None
    if bodies and len(files) == 3 and files[1] == "--field-manager":
        files, manager = files[:1], files[2]
    if not files:
        sys.exit(__doc__)
    bad, pods = [], 0
    for path in files:
        for where, obj in objects(path, bodies, manager):
            for w, spec in pod_specs(obj, f"{where} {obj.get('kind')}"):
                pods += 1
                bad += check(spec, w)
    for b in bad:
        print(b)
    print(f"pss_check: {pods} pod specs, {len(bad)} violations of the restricted level")
    return 1 if bad or pods == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
