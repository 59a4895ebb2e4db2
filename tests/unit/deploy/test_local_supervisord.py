"""deploy/local/supervisord.conf as supervisor itself reads it: the names
the README's `supervisorctl -c deploy/local/supervisord.conf restart leads`
uses, a control socket supervisorctl finds without DEALERFLOW_VAR, and the
second replicas of leads and followups that `make run REPLICAS=2` starts."""
from pathlib import Path

import pytest
from supervisor.options import ClientOptions, ServerOptions

from dealerflow.ops import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[3]
CONF = str(ROOT / "deploy" / "local" / "supervisord.conf")


def server_options(monkeypatch, tmp_path, second_replicas: str = "false") -> ServerOptions:
    monkeypatch.setenv("DEALERFLOW_VAR", str(tmp_path))  # run.sh's, whatever it is
    monkeypatch.setenv("SECOND_REPLICAS", second_replicas)  # run.sh's, from REPLICAS
    server = ServerOptions()
    server.realize(["-c", CONF])
    return server


def test_supervisorctl_finds_the_socket_supervisord_serves_from_any_shell(monkeypatch, tmp_path):
    monkeypatch.delenv("DEALERFLOW_VAR", raising=False)
    client = ClientOptions()
    client.realize(["-c", CONF])
    server = server_options(monkeypatch, tmp_path)
    [socket] = server.server_configs
    assert client.serverurl == f"unix://{socket['file']}"
    assert Path(socket["file"]) == ROOT / "var" / "supervisor.sock"


def programs(server: ServerOptions) -> dict:
    """{name: its process config}; every program is a group of one process of its name."""
    assert all([process.name for process in group.process_configs] == [group.name]
               for group in server.process_group_configs)
    return {group.name: group.process_configs[0] for group in server.process_group_configs}


def test_each_program_is_named_as_the_readme_names_it(monkeypatch, tmp_path):
    names = set(programs(server_options(monkeypatch, tmp_path)))
    assert names == {"gateway", "customers", "leads", "followups", "notifications", "leads-2", "followups-2"}
    assert "restart leads" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("second_replicas, started", [("false", False), ("true", True)])
def test_make_run_replicas_starts_a_second_leads_and_followups_with_ops_ports_of_their_own(
        monkeypatch, tmp_path, second_replicas, started):
    configs = programs(server_options(monkeypatch, tmp_path, second_replicas))
    autostarted = {name for name, config in configs.items() if config.autostart}
    assert autostarted == {"gateway", "customers", "leads", "followups", "notifications"} | (
        {"leads-2", "followups-2"} if started else set())
    for replica in ("leads-2", "followups-2"):
        first = configs[replica.removesuffix("-2")]
        assert configs[replica].command == first.command  # the same service
        assert "OPS_PORT" not in (first.environment or {})  # the first keeps its default
    ports = [int(configs[r].environment["OPS_PORT"]) for r in ("leads-2", "followups-2")]
    assert len(set(ports) | set(DEFAULT_PORTS.values())) == len(ports) + len(DEFAULT_PORTS)
