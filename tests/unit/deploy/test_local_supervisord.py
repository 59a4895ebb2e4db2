"""deploy/local/supervisord.conf as supervisor itself reads it: the names
the README's `supervisorctl -c deploy/local/supervisord.conf restart leads`
uses, and a control socket supervisorctl finds without DEALERFLOW_VAR."""
from pathlib import Path

from supervisor.options import ClientOptions, ServerOptions

ROOT = Path(__file__).resolve().parents[3]
CONF = str(ROOT / "deploy" / "local" / "supervisord.conf")


def test_supervisorctl_finds_the_socket_supervisord_serves_from_any_shell(monkeypatch, tmp_path):
    monkeypatch.delenv("DEALERFLOW_VAR", raising=False)
    client = ClientOptions()
    client.realize(["-c", CONF])
    monkeypatch.setenv("DEALERFLOW_VAR", str(tmp_path))  # run.sh's, whatever it is
    server = ServerOptions()
    server.realize(["-c", CONF])
    [socket] = server.server_configs
    assert client.serverurl == f"unix://{socket['file']}"
    assert Path(socket["file"]) == ROOT / "var" / "supervisor.sock"


def test_each_program_is_named_as_the_readme_names_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DEALERFLOW_VAR", str(tmp_path))
    server = ServerOptions()
    server.realize(["-c", CONF])
    groups = {group.name: [process.name for process in group.process_configs]
              for group in server.process_group_configs}
    assert groups == {name: [name] for name in ("gateway", "customers", "leads", "followups", "notifications")}
    assert "restart leads" in (ROOT / "README.md").read_text()
