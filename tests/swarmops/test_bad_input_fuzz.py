"""Bad input, generated (hypothesis): each surface answers with its own error, one line, no partial write.

Surfaces: profile files, `--set` overrides, scenario files (a real one with one field replaced), ledger
DB URLs, checkpoints (random bytes and zips with random members), environment names (ENV of every
infra/*.sh script and make target), inventory variables (site.yml's preflight checks of the variables a
team sets in its inventories), and the flags of every `swarmops` command (parsing and type
conversion: the command bodies are replaced by a recorder, so a value that parses starts no work).
Each case must either load or raise the surface's domain error whose message is one line; nothing else
may escape (an escaping exception is a bug the CLI would print as a traceback).
`test_cases_tried_per_surface` prints how many cases each surface got (docs/reliability.md quotes them).
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

# one xdist group: the last test counts the cases of all the others in this process
pytestmark = [pytest.mark.unit, pytest.mark.xdist_group("bad-input-fuzz")]
REPO = Path(__file__).resolve().parents[2]
CASES: Counter[str] = Counter()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.floats(allow_nan=True),
                    st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def _one_line_or_ok(surface: str, call: Callable[[], Any], error: type[BaseException]) -> None:
    CASES[surface] += 1
    try:
        call()
    except error as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), f"{surface}: not one line: {message!r}"


@pytest.fixture(scope="module")
def smoke_profile() -> dict:
    return yaml.safe_load((REPO / "training/profiles/smoke.yaml").read_text())


@FUZZ
@given(key=st.sampled_from(["n_envs", "total_timesteps", "checkpoint_every", "seed", "device", "ppo",
                            "stages", "episode_gif", "name", "bogus"]), value=values)
@example(key="ppo", value={"\n": 0})  # found by this test: a key with a newline was printed raw
def test_profile_files(smoke_profile: dict, key: str, value: Any) -> None:
    from training.config import ProfileError, load_profile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(yaml.safe_dump({**smoke_profile, key: value}))
        _one_line_or_ok("profile files", lambda: load_profile(path), ProfileError)


@FUZZ
@given(text=st.text(max_size=200))
def test_profile_files_any_text(text: str) -> None:
    from training.config import ProfileError, load_profile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(text)
        _one_line_or_ok("profile files", lambda: load_profile(path), ProfileError)


@FUZZ
@given(overrides=st.lists(st.text(max_size=30), min_size=1, max_size=3))
def test_set_overrides(overrides: list[str]) -> None:
    from training.config import ProfileError, load_profile

    _one_line_or_ok("--set overrides", lambda: load_profile("smoke", overrides), ProfileError)


@FUZZ
@given(field=st.sampled_from(["config", "id", "layouts", "split", "scenario", "bogus"]), value=values,
       config_key=st.sampled_from(["width", "height", "n_drones", "obstacle_density", "max_steps", "seed"]))
def test_scenario_files(field: str, value: Any, config_key: str) -> None:
    from training.scenarios import MANIFEST, SuiteError, load_suite

    source = REPO / "data/scenarios/recon-held_out-10x14-d3-o0.json"
    entry = json.loads(source.read_text())
    if field == "config":
        entry["config"][config_key] = value
    else:
        entry[field] = value
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / source.name).write_text(json.dumps(entry))
        (Path(tmp) / MANIFEST).write_text(json.dumps({"scenarios": [source.name], "suite_version": "fuzz"}))
        _one_line_or_ok("scenario files", lambda: load_suite(Path(tmp)), SuiteError)


@FUZZ
@given(manifest=values)
def test_scenario_manifests(manifest: Any) -> None:
    from training.scenarios import MANIFEST, SuiteError, load_suite

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest))
        _one_line_or_ok("scenario files", lambda: load_suite(Path(tmp)), SuiteError)


@FUZZ
@given(scheme=st.sampled_from(["sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg2",
                               "postgresql+asyncpg", "mysql", "http", ""]),
       rest=st.text(max_size=40))
@example(scheme="postgresql", rest="\n")  # found by this test: a URL with a newline was printed raw
def test_ledger_db_urls(scheme: str, rest: str) -> None:
    from training.ledger import LedgerError, make_engine

    with tempfile.TemporaryDirectory() as tmp:
        before = sorted(Path(tmp).rglob("*"))
        url = f"{scheme}://{rest}" if scheme else rest
        if scheme.startswith("sqlite"):
            url = f"{scheme}:///{tmp}/missing-folder/{rest}"
        CASES["ledger DB URLs"] += 1
        try:
            engine = make_engine(url)
        except LedgerError as exc:
            assert "\n" not in str(exc).strip()
            assert sorted(Path(tmp).rglob("*")) == before  # refused: nothing created
        else:
            engine.dispose()


@FUZZ
@given(kind=st.sampled_from(["bytes", "zip"]), payload=st.binary(max_size=2048),
       members=st.lists(st.sampled_from(["data", "pytorch_variables.pth", "policy.pth",
                                         "policy.optimizer.pth", "_stable_baselines3_version"]),
                        max_size=5, unique=True))
def test_corrupt_checkpoints(kind: str, payload: bytes, members: list[str]) -> None:
    from training.errors import CheckpointError
    from training.train import load_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "last.zip"
        if kind == "bytes":
            path.write_bytes(payload)
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                for name in members:
                    archive.writestr(name, payload)
            path.write_bytes(buffer.getvalue())
        CASES["checkpoints"] += 1
        with pytest.raises(CheckpointError) as raised:
            load_checkpoint(path, None, "cpu")
        assert "\n" not in str(raised.value).strip()


# infra/lib.sh's check_env, restated: the names every infra script and make target accepts.
ENV_NAME = re.compile(r"staging|production|(test-)?review-[1-9][0-9]{0,5}|test-[1-9][0-9]?")
near_env_names = st.from_regex(r"\A(staging|production|test-|review-|test-review-)?[0-9a-z\n '$-]{0,8}\Z")


@FUZZ
@given(name=st.one_of(near_env_names, st.text(max_size=30)).filter(lambda n: "\x00" not in n),
       test_envs_only=st.booleans())
@example(name="staging\n", test_envs_only=False)  # found by this test: printed on two lines
@example(name="test-7", test_envs_only=True)
def test_environment_names(name: str, test_envs_only: bool) -> None:
    """check_env (infra/lib.sh) accepts exactly the environment names, and refuses in one line."""
    env = {k: v for k, v in os.environ.items() if k != "SWARMOPS_TEST_ENVS_ONLY"}
    if test_envs_only:
        env["SWARMOPS_TEST_ENVS_ONLY"] = "1"
    CASES["environment names"] += 1
    result = subprocess.run(["bash", "-c", 'source infra/lib.sh && check_env "$1"', "check_env", name],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    allowed = ENV_NAME.fullmatch(name) is not None and (name.startswith("test-") or not test_envs_only)
    if allowed:
        assert (result.returncode, result.stderr) == (0, ""), (name, result.stderr)
    else:
        assert result.returncode == 2, (name, result.returncode, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and "ENV=" in lines[0], (name, result.stderr)


# Inventory variables a team sets in its inventories' group_vars, and the names their preflight message
# uses for them (swarmops_admin_users reaches JupyterHub as jupyterhub_admin_users).
INVENTORY_VARIABLES = {
    "swarmops_port_base": "port", "swarmops_admin_users": "jupyterhub_admin_users",
    "postgres_remote_clients": "postgres_remote_clients",
    "postgres_remote_databases": "postgres_remote_databases",
    "backup_schedule_time": "backup_schedule_time", "backup_keep_last": "keep_", "backup_keep_daily": "keep_",
    "mlflow_workers": "mlflow_workers", "jupyterhub_version": "jupyterhub_version",
    "mlflow_version": "mlflow_version",
}
# no Jinja delimiters: Ansible templates extra vars by design, a value with {{ is a template, not data
inventory_text = st.text(alphabet=st.characters(blacklist_characters="{}%#", blacklist_categories=("Cs",)),
                         max_size=20)
inventory_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
              inventory_text,
              st.sampled_from(["10.0.4.0/24", "0.0.0.0/0", "127.0.1.250/32", "25:61", "02:30", "1.2", "-1"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(inventory_text, inner, max_size=2)),
    max_leaves=4)


def _preflight(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """site.yml's preflight checks of variables (--tags preflight --skip-tags host-check: no host is
    contacted) in one run for a test-<n> inventory with one host per case (``case<i>``, the case's
    variables as its host variables: above every group_vars file and role default, as a team's own
    inventory value would be) and stand-in secrets; the json callback's result."""
    # the keys every vault holds, read from where infra/vault.sh takes them (VAULT_KEYS in infra/lib.sh)
    listed = re.search(r"^VAULT_KEYS=\(([^)]*)\)", (REPO / "infra/lib.sh").read_text(), re.M).group(1)
    secrets = {f"vault_{key.split(':')[0]}": "0" * 64 for key in listed.split()}
    ansible = REPO / "infra/ansible"
    test_inventory = ansible / "inventories/test"
    host = yaml.safe_load((test_inventory / "hosts.yml").read_text())["swarmops"]["hosts"]["test"]
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / "inventory"
        inventory.mkdir()
        (inventory / "group_vars").symlink_to(test_inventory / "group_vars")
        hosts = {f"case{i}": {**host, **variables} for i, variables in enumerate(cases)}
        (inventory / "hosts.yml").write_text(yaml.safe_dump({"swarmops": {"hosts": hosts}}))
        extra = Path(tmp) / "vars.yml"
        extra.write_text(yaml.safe_dump(secrets))
        # Ansible's own linear strategy: no host is contacted, and Mitogen's per-host set-up would cost
        # ~2 s for each of the up to 16 case hosts (16 hosts: 39 s against 16 s on this machine)
        env = {**os.environ, "ANSIBLE_CONFIG": str(ansible / "ansible.cfg"),
               "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
               "ANSIBLE_LOCAL_TEMP": tmp, "ANSIBLE_REMOTE_TEMP": tmp, "ANSIBLE_STRATEGY": "linear"}
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory / "hosts.yml"),
             "-e", "swarmops_test_env=test-99", "-e", "swarmops_project_ref=" + "0" * 40, "-e", f"@{extra}",
             "--tags", "preflight", "--skip-tags", "host-check", "site.yml"],
            cwd=ansible, env=env, capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    return json.loads(proc.stdout)


# One playbook run per batch of cases: ansible-playbook's start-up is most of a preflight's cost.
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(st.tuples(st.sampled_from(sorted(INVENTORY_VARIABLES)), inventory_values),
                      min_size=8, max_size=16))
@example(cases=[("postgres_remote_clients", ["0.0.0.0/0"]), ("backup_schedule_time", "07:30\n")])
def test_inventory_variables(cases: list[tuple[str, Any]]) -> None:
    """A bad inventory variable stops the deploy in its preflight with the role's one line naming it."""
    CASES["inventory variables"] += len(cases)
    result = _preflight([{name: value} for name, value in cases])
    for i, (name, value) in enumerate(cases):
        stats = result["stats"][f"case{i}"]
        assert stats["unreachable"] == 0, "a preflight contacted the host"
        if stats["failures"] == 0:
            continue
        failed = [task["hosts"][f"case{i}"] for play in result["plays"] for task in play["tasks"]
                  if task["hosts"].get(f"case{i}", {}).get("failed")]
        assert len(failed) == 1, failed
        outcome, message = failed[0], failed[0].get("msg", "")
        if outcome.get("action") == "ansible.builtin.validate_argument_spec":  # a role's meta/argument_specs
            errors = outcome["argument_errors"]
            message = " ".join(e for e in errors if name in e or INVENTORY_VARIABLES[name] in e)
            assert message and all("\n" not in e for e in errors), errors
        else:
            assert "assertion" in outcome, f"{name}={value!r} broke a check instead of failing it: {message}"
            assert message and "\n" not in message.strip(), f"{name}={value!r}: not one line: {message!r}"
        assert INVENTORY_VARIABLES[name] in message, f"{name}={value!r}: no name in the message: {message}"


def test_inventory_preflight_sees_each_hosts_value() -> None:
    """The batched preflight is not vacuous: each case host's own value reaches the checks."""
    result = _preflight([{"postgres_remote_clients": ["0.0.0.0/0"]}, {"swarmops_port_base": "x"},
                         {"backup_keep_daily": -1}, {}])
    assert [result["stats"][f"case{i}"]["failures"] for i in range(4)] == [1, 1, 1, 0]


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every leaf command of the `swarmops` CLI with its path (``("bench", "env")``)."""
    import typer

    from swarmops import cli

    def walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in sorted(subs.items()):
                yield from walk(sub, (*path, name))
        else:
            yield path, cmd

    return list(walk(typer.main.get_command(cli.app), ()))


def _options() -> list[tuple[tuple[str, ...], str, list[str]]]:
    """(command path, option, placeholders for its required arguments) for every option taking a value."""
    found = []
    for path, cmd in _commands():
        placeholders = ["x" for p in cmd.params if p.param_type_name == "argument" and p.required]
        for param in cmd.params:
            if param.param_type_name == "option" and not param.is_flag and not getattr(param, "count", False):
                found.append((path, param.opts[0], placeholders))
    return found


@pytest.fixture
def recorded_commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command body replaced by a recorder with the same signature (typer reads it through
    functools.wraps), so a fuzzed flag that parses starts nothing; yields the names of the calls."""
    import functools

    from swarmops import cli

    calls: list[str] = []

    def stub(info: Any) -> None:
        original = info.callback

        @functools.wraps(original)
        def record(*args: Any, **kwargs: Any) -> None:
            calls.append(original.__name__)

        monkeypatch.setattr(info, "callback", record)

    for info in cli.command_infos(cli.app):
        stub(info)
    return calls


CLI_OPTIONS = _options()
flag_values = st.one_of(st.text(max_size=20), st.integers(-10**12, 10**12).map(str),
                        st.floats(allow_nan=True).map(str),
                        st.sampled_from(["", "-1", "0", "nan", "inf", "1e999", "/nonexistent/x", "--", "-"]))


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(CLI_OPTIONS), value=flag_values.filter(lambda v: "\x00" not in v))
def test_cli_flags(recorded_commands: list[str], option: tuple, value: str,
                   capsys: pytest.CaptureFixture[str]) -> None:
    """Any value for any option of any command: parsed (the recorder runs) or one usage line, exit 2."""
    from swarmops import cli

    path, flag, placeholders = option
    CASES["CLI flags"] += 1
    before = len(recorded_commands)
    capsys.readouterr()
    code = cli.run([*path, *placeholders, flag, value])
    err = capsys.readouterr().err
    if code == 0:
        assert len(recorded_commands) == before + 1 or value == "--help", (path, flag, value, err)
    else:
        assert code == 2, (path, flag, value, code, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "error" in lines[0], (path, flag, value, err)


def test_every_command_option_is_fuzzed() -> None:
    """The option list the fuzz samples from covers every command (guards against a broken walk)."""
    commands = {path for path, _, _ in CLI_OPTIONS}
    assert {("train",), ("evaluate",), ("demo",), ("mission",), ("bench", "env")} <= commands
    assert len(CLI_OPTIONS) >= 100, len(CLI_OPTIONS)


def test_cases_tried_per_surface() -> None:
    """Runs last in this module (pytest keeps file order): every surface was fuzzed."""
    print("bad-input cases tried: " + ", ".join(f"{k} {v}" for k, v in sorted(CASES.items())))
    if len(CASES) < 5:
        pytest.skip("run with the whole module to count every surface")
    assert all(n >= 60 for n in CASES.values()), CASES
