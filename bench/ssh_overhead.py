"""What one Ansible task costs over SSH (deploy user + sudo): Ansible's own linear strategy against Mitogen's.

Runs one playbook of N small tasks (stat, command, copy: what an idempotent redeploy mostly is) against a
throw-away loopback host twice per round, over SSH as the deploy user with sudo become (the inventories'
setting, group_vars/swarmops/connection.yml): with `ANSIBLE_STRATEGY=linear` (a new interpreter per
task) and with `mitogen_linear` (ansible.cfg's setting: one interpreter per host for the play). The
sshd, its host key and the client key are made for the run under /run and removed after. Needs root and
a host provisioned with infra/ansible/target.yml (the deploy user and its sudo rule). Prints a Markdown
table and writes bench/results/ssh-overhead.json.

    nice -n 10 .venv/bin/python bench/ssh_overhead.py [--tasks 30] [--rounds 3] [--address 127.0.1.250]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv/bin"
DEPLOY_USER = "swarmops-deploy"


def _playbook(path: Path, tasks: int, work: str) -> None:
    """A play of `tasks` small tasks against the one host (a third each of stat, command, copy)."""
    body = ["- hosts: all\n  gather_facts: false\n  tasks:",
            f"    - ansible.builtin.file: {{path: {work}, state: directory, mode: '0700'}}"]
    for i in range(tasks):
        kind = i % 3
        if kind == 0:
            body.append("    - ansible.builtin.stat: {path: /etc/hostname}")
        elif kind == 1:
            body.append("    - ansible.builtin.command: /bin/true\n      changed_when: false")
        else:
            body.append(f"    - ansible.builtin.copy: {{dest: {work}/f{i}, content: '{i}', mode: '0600'}}")
    body.append(f"    - ansible.builtin.file: {{path: {work}, state: absent}}")
    path.write_text("\n".join(body) + "\n")


def _sshd(d: Path, address: str) -> dict[str, str]:
    """Keys, an sshd on address:22 letting only the deploy user in; returns the Ansible environment."""
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    shutil.copy(d / "client.pub", d / "authorized_keys")
    os.chmod(d / "authorized_keys", 0o644)
    (d / "sshd.conf").write_text(f"ListenAddress {address}\nPort 22\nHostKey {d / 'host'}\n"
                                 f"PidFile {d / 'pid'}\n"
                                 f"AuthorizedKeysFile {d / 'authorized_keys'}\nAllowUsers {DEPLOY_USER}\n"
                                 "PasswordAuthentication no\nPermitRootLogin no\nUsePAM yes\n"
                                 "Subsystem sftp /usr/lib/openssh/sftp-server\n")
    (d / "known_hosts").write_text(f"{address} {(d / 'host.pub').read_text()}")
    Path("/run/sshd").mkdir(exist_ok=True)
    subprocess.run(["/usr/sbin/sshd", "-f", str(d / "sshd.conf")], check=True)
    time.sleep(0.5)
    return {"ANSIBLE_PRIVATE_KEY_FILE": str(d / "client"),
            "ANSIBLE_SSH_COMMON_ARGS": f"-o UserKnownHostsFile={d / 'known_hosts'} "
                                       "-o StrictHostKeyChecking=yes"}


def _run(playbook: Path, address: str, env: dict[str, str], extra: list[str]) -> float:
    t0 = time.monotonic()
    subprocess.run([str(VENV / "ansible-playbook"), "-i", f"{address},", *extra, str(playbook)], check=True,
                   capture_output=True, text=True, timeout=900, env=env)
    return time.monotonic() - t0


def main() -> None:
    """Time linear vs Mitogen runs of the same playbook over SSH + sudo, alternating; report the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--address", default="127.0.1.250")
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="swarmops-bench-ssh-", dir="/run"))
    d.chmod(0o755)  # sshd reads authorized_keys as the deploy user
    try:
        ssh_env = _sshd(d, args.address)
        book = d / "play.yml"
        _playbook(book, args.tasks, f"/root/.swarmops-bench-{d.name}")
        base = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "infra/ansible/ansible.cfg"),
                "ANSIBLE_FORCE_COLOR": "0"}
        ssh = ["-c", "ssh", "-u", DEPLOY_USER, "--become",
               "-e", "ansible_python_interpreter=/usr/bin/python3"]
        modes = {
            "linear (a python per task)": ({**base, **ssh_env, "ANSIBLE_STRATEGY": "linear"}, ssh),
            "mitogen_linear (ansible.cfg)": ({**base, **ssh_env, "ANSIBLE_STRATEGY": "mitogen_linear"}, ssh),
        }
        times: dict[str, list[float]] = {m: [] for m in modes}
        for _ in range(args.rounds):
            for mode, (env, extra) in modes.items():
                times[mode].append(_run(book, args.address, env, extra))
    finally:
        if (d / "pid").is_file():
            os.kill(int((d / "pid").read_text()), 15)
        shutil.rmtree(d, ignore_errors=True)
    med = {m: sorted(t)[len(t) // 2] for m, t in times.items()}
    linear, mitogen = med.values()
    n = args.tasks + 2
    print(f"| strategy (ssh + sudo) | median s ({args.rounds} rounds, {n} tasks) | s per task |")
    print("|---|---|---|")
    for m, t in med.items():
        print(f"| {m} | {t:.1f} | {t / n:.2f} |")
    print(f"mitogen/linear ratio: {mitogen / linear:.2f}  (saved per task: {(linear - mitogen) / n:.2f} s)")
    out = {"tasks": n, "rounds": args.rounds, "times_s": times, "median_s": med,
           "ratio_mitogen_linear": mitogen / linear, "saved_s_per_task": (linear - mitogen) / n,
           "load_avg": os.getloadavg()}
    (ROOT / "bench/results").mkdir(exist_ok=True)
    (ROOT / "bench/results/ssh-overhead.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
