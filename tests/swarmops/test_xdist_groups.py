"""`make test` runs two pytest-xdist workers with `--dist loadgroup`: tests sharing an expensive fixture
must land on one worker (one deployment, one smoke training), in file order. This runs the real hook
(tests/conftest.py) on a miniature suite under xdist and checks where each test ran."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]

CONFTEST = f'''
import importlib.util
import os
import pytest

_spec = importlib.util.spec_from_file_location("swarmops_test_hooks", {str(REPO / "tests/conftest.py")!r})
_hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hooks)
pytest_collection_modifyitems = _hooks.pytest_collection_modifyitems


def record(request):
    with open(os.environ["RAN_LOG"], "a") as log:
        log.write(f"{{request.node.nodeid}} {{os.environ.get('PYTEST_XDIST_WORKER')}}\\n")


@pytest.fixture(scope="session")
def test_env_a():
    return "deployed"


@pytest.fixture(scope="session")
def smoke_pipeline():
    return "trained"
'''
# module -> (what precedes its tests, one test with {i} for its number, how many tests)
MODULES = {
    "infra/test_a_deploy.py": ("", "def test_{i}(test_env_a, request):\n    record(request)\n", 6),
    "infra/test_zz_sentinel.py": ("", "def test_last(test_env_a, request):\n    record(request)\n", 1),
    "test_training.py": ("", "def test_{i}(smoke_pipeline, request):\n    record(request)\n", 6),
    "test_module_fixture.py": ("@pytest.fixture(scope='module')\ndef built():\n    return 1\n",
                               "def test_{i}(built, request):\n    record(request)\n", 6),
    "test_free.py": ("", "def test_{i}(request):\n    record(request)\n", 6),
}


def test_tests_sharing_a_fixture_run_on_one_worker_in_file_order(tmp_path: Path) -> None:
    suite = tmp_path / "tests"
    (suite / "infra").mkdir(parents=True)
    (suite / "conftest.py").write_text(CONFTEST)
    for name, (prelude, test, count) in MODULES.items():
        body = "\n\n".join(test.replace("{i}", str(i)) for i in range(count))
        (suite / name).write_text(f"import pytest\nfrom conftest import record\n\n{prelude}\n\n{body}")
    log = tmp_path / "ran.log"
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-p",
                             "no:cacheprovider", "-q", "--rootdir", str(tmp_path), str(suite)],
                            cwd=tmp_path, env={"RAN_LOG": str(log), "PATH": "/usr/bin:/bin",
                                               "PYTHONPATH": str(suite)},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    ran = [line.split() for line in log.read_text().splitlines()]
    assert len(ran) == 25, ran
    # loadgroup appends the group to the node id: proof that xdist saw the marks
    assert all(nodeid.endswith("@infra-hosts") for nodeid, _ in ran if "/infra/" in nodeid), ran
    ran = [(nodeid.split("@")[0], worker) for nodeid, worker in ran]
    workers: dict[str, set[str]] = {}
    for nodeid, worker in ran:
        workers.setdefault(nodeid.split("::")[0].split("/", 1)[-1], set()).add(worker)
    infra = [(n, w) for n, w in ran if "/infra/" in n]
    assert len({w for _, w in infra}) == 1, f"the deployment's tests spread over workers: {infra}"
    assert infra[-1][0].endswith("test_zz_sentinel.py::test_last"), f"the sentinel did not run last: {infra}"
    for module in ("test_training.py", "test_module_fixture.py"):
        assert len(workers[module]) == 1, f"{module} spread over workers {workers[module]}: grouping is off"
