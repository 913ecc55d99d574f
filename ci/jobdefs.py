"""Jenkins job definitions kept as code (jenkins-job-builder YAML under ci/jobs/) rendered to XML.

jenkins-job-builder 6.5 knows only git/GitHub/Bitbucket/Gerrit sources for multibranch jobs. A plain git
source discovers branches, never merge requests, so the Jenkinsfile's ``changeRequest()`` stages would
never run. ``render_jobs`` therefore replaces each rendered ``GitSCMSource`` with the
gitlab-branch-source plugin's ``GitLabSCMSource`` (the XML the plugin itself saves): branches that are
not merge requests, plus merge requests from the project, built merged with their target branch.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

from ci.errors import CIError

JOBS_DIR = Path(__file__).resolve().parent / "jobs"
#: The GitLab server's name in Jenkins (ci/jenkins/casc.yaml, unclassified.gitLabServers).
GITLAB_SERVER_NAME = "gitlab"
GITLAB_SOURCE = "io.jenkins.plugins.gitlabbranchsource.GitLabSCMSource"
_GL = "io.jenkins.plugins.gitlabbranchsource."
# strategyId values of the plugin: branches 1 = exclude branches that are also merge requests;
# merge requests 1 = build the merge request merged with the current target branch.
BRANCH_STRATEGY = "1"
MERGE_REQUEST_STRATEGY = "1"


def jenkins_jobs_command() -> str:
    """The `jenkins-jobs` executable next to this Python (the venv's), else the one on PATH."""
    local = Path(sys.executable).with_name("jenkins-jobs")
    found = str(local) if local.exists() else shutil.which("jenkins-jobs")
    if not found:
        raise CIError("jenkins-jobs not found: install jenkins-job-builder (pip install -e '.[dev]')")
    return found


def render_jobs(jobs_dir: Path = JOBS_DIR) -> dict[str, str]:
    """Render every job in ``jobs_dir`` with `jenkins-jobs test`; returns {job name: config XML}."""
    if not jobs_dir.is_dir():
        raise CIError(f"job definitions folder {jobs_dir} does not exist")
    with tempfile.TemporaryDirectory(prefix="swarmops-jjb-") as out:
        proc = subprocess.run([jenkins_jobs_command(), "--conf", "/dev/null", "test", str(jobs_dir),
                               "-o", out], capture_output=True, text=True)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CIError(f"jenkins-jobs could not render {jobs_dir}: {last}")
        rendered = {p.name: p.read_text() for p in sorted(Path(out).iterdir()) if p.is_file()}
    return {name: with_gitlab_source(xml) for name, xml in rendered.items()}


def with_gitlab_source(xml: str, server_name: str = GITLAB_SERVER_NAME) -> str:
    """Swap every multibranch ``GitSCMSource`` in ``xml`` for a GitLab branch + merge-request source.

    The project path comes from the git remote (``https://host/group/project.git`` -> group/project);
    the checkout credentials and the git traits (e.g. wipe workspace) are kept.
    """
    root = ET.fromstring(xml)
    for source in root.iter("source"):
        if source.get("class") != "jenkins.plugins.git.GitSCMSource":
            continue
        remote = source.findtext("remote") or ""
        path = urlsplit(remote).path.strip("/").removesuffix(".git")
        if path.count("/") < 1:
            raise CIError(f"jenkins job source {remote!r} is not a GitLab project URL "
                          f"(https://HOST/GROUP/PROJECT.git)")
        credentials = source.findtext("credentialsId") or ""
        old_traits = source.find("traits")
        kept_traits = [t for t in (list(old_traits) if old_traits is not None else [])
                       if t.tag not in ("jenkins.plugins.git.traits.BranchDiscoveryTrait",
                                        "jenkins.scm.impl.trait.RegexSCMHeadFilterTrait")]
        source.clear()
        source.set("class", GITLAB_SOURCE)
        source.set("plugin", "gitlab-branch-source")
        for tag, text in (("id", f"gitlab-{path}"), ("serverName", server_name),
                          ("projectOwner", path.split("/", 1)[0]), ("projectPath", path),
                          ("credentialsId", credentials), ("httpRemote", remote)):
            ET.SubElement(source, tag).text = text
        traits = ET.SubElement(source, "traits")
        for trait, strategy in (("BranchDiscoveryTrait", BRANCH_STRATEGY),
                                ("OriginMergeRequestDiscoveryTrait", MERGE_REQUEST_STRATEGY)):
            ET.SubElement(ET.SubElement(traits, _GL + trait), "strategyId").text = strategy
        traits.extend(kept_traits)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


def write_jobs(jobs: dict[str, str], out_dir: Path) -> list[Path]:
    """Write each job's XML to ``out_dir/<name>.xml``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, xml in jobs.items():
        path = out_dir / f"{name.replace('/', '_')}.xml"
        path.write_text(xml)
        paths.append(path)
    return paths
