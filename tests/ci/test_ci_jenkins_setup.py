"""ci/jenkins/: the pinned plugin list and the Configuration-as-Code YAML match what the Jenkinsfile and
the job definitions use (no Jenkins server here: checked at the file level, see README)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ci.jobdefs import GITLAB_SERVER_NAME

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
JENKINSFILE = (REPO / "Jenkinsfile").read_text()
CASC = yaml.safe_load((REPO / "ci/jenkins/casc.yaml").read_text())
PLUGIN_LINES = [line for line in (REPO / "ci/jenkins/plugins.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

# Steps and directives of the Jenkinsfile -> the plugin that provides them.
STEP_PLUGINS = {
    "pipeline": "workflow-aggregator", "stage": "workflow-aggregator", "input": "workflow-aggregator",
    "stash": "workflow-aggregator", "unstash": "workflow-aggregator", "node": "workflow-aggregator",
    "changeRequest": "workflow-multibranch", "checkout scm": "workflow-multibranch",
    "withCredentials": "credentials-binding", "usernamePassword": "credentials-binding",
    "string(credentialsId": "credentials-binding", "file(credentialsId": "credentials-binding",
    "lock": "lockable-resources", "milestone": "pipeline-milestone-step", "timestamps": "timestamper",
    "junit": "junit", "archiveArtifacts": "workflow-aggregator",
}


def _plugins() -> dict[str, str]:
    return dict(line.split(":", 1) for line in PLUGIN_LINES)


def test_every_plugin_is_pinned_once() -> None:
    names = [line.split(":", 1)[0] for line in PLUGIN_LINES]
    assert len(names) == len(set(names))
    for line in PLUGIN_LINES:
        assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9._-]+", line), f"not name:version: {line!r}"


def test_every_step_the_jenkinsfile_uses_has_its_plugin() -> None:
    plugins = _plugins()
    for step, plugin in STEP_PLUGINS.items():
        if step in JENKINSFILE:
            assert plugin in plugins, f"{step} needs {plugin}"
    for plugin in ("configuration-as-code", "gitlab-branch-source", "git"):
        assert plugin in plugins


def test_casc_defines_every_credential_id_the_pipeline_uses() -> None:
    defined = {
        next(iter(entry.values()))["id"]
        for domain in CASC["credentials"]["system"]["domainCredentials"]
        for entry in domain["credentials"]
    }
    used = set(re.findall(r"credentialsId: '([^']+)'", JENKINSFILE))
    used |= set(re.findall(r"credentials\('([^']+)'\)", JENKINSFILE))
    jobs = (REPO / "ci/jobs/swarmops.yaml").read_text()
    used |= set(re.findall(r"credentials-id: (\S+)", jobs))
    used = {u for u in used if not u.startswith("'{")}
    assert used, "no credentials found in the Jenkinsfile"
    assert used <= defined, f"not defined in casc.yaml: {sorted(used - defined)}"
    assert {"swarmops-vault-password", "swarmops-db-url", "swarmops-tune-storage"} <= used


def test_casc_has_agents_for_every_label_and_the_gitlab_server() -> None:
    labels = {label for node in CASC["jenkins"]["nodes"]
              for label in node["permanent"]["labelString"].split()}
    wanted = set(re.findall(r"label '([^']+)'", JENKINSFILE))
    wanted |= set(re.findall(r"node\('([^']+)'\)", JENKINSFILE))
    assert wanted == {"linux", "gpu", "deploy"}
    assert wanted <= labels
    assert CASC["jenkins"]["numExecutors"] == 0
    servers = CASC["unclassified"]["gitLabServers"]["servers"]
    assert [s["name"] for s in servers] == [GITLAB_SERVER_NAME]
    locks = {r["name"] for r in CASC["unclassified"]["lockableResourcesManager"]["declaredResources"]}
    assert set(re.findall(r"resource: '([^']+)'", JENKINSFILE)) <= locks


def test_no_secret_in_clear() -> None:
    def leaves(node: object, key: str = "") -> list[tuple[str, object]]:
        if isinstance(node, dict):
            return [leaf for k, v in node.items() for leaf in leaves(v, k)]
        if isinstance(node, list):
            return [leaf for v in node for leaf in leaves(v, key)]
        return [(key, node)]

    for key, value in leaves(CASC):
        if key in ("password", "secret", "token", "secretBytes"):
            assert isinstance(value, str) and re.fullmatch(r"\$\{[^}]+\}+", value), (key, value)
    assert not CASC["jenkins"]["authorizationStrategy"]["loggedInUsersCanDoAnything"]["allowAnonymousRead"]
