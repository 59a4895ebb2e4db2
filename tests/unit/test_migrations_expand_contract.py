"""Migrations run while the previous release still serves (expand, then
contract; docs/operations.md): a revision's ``upgrade`` may add tables,
nullable columns, columns with a server default and indexes, but may not
drop or rename a table or a column, nor make a column NOT NULL without a
server default, unless it is listed in ``ALLOWED`` with the release that
stopped using what it removes.

Each service's revisions are walked with Alembic's own ``ScriptDirectory``
and each file is read as Python (``ast``), not run: a branch for one
database (``if dialect == "postgresql"``) is checked as well as the other,
and no database is needed. What ``downgrade`` does is not checked; raw SQL
given to ``op.execute`` is, by its literal text."""
import ast
import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from dealerflow.config import SERVICES
from dealerflow.migrations import alembic_config

# (service, revision): the release reason it may be destructive. A contract revision belongs here
# once the release before it has stopped using (or has started writing) what it drops or tightens.
ALLOWED = {
    ("customers", "0003"): "predates the rule (commit e391509, customer profiles): moved customers.phone and "
                           ".email into customer_phones/customer_emails and dropped them, and made the new tags, "
                           "preferences, updated_at and revision NOT NULL once filled, in one release",
    ("gateway", "0002"): "predates the rule (commit 00933d8, lead ids from their identity): copied the "
                         "intake_ledger's accepted leads into intake_leads and dropped it in the same release",
}

DROPS = {"drop_table": "drops a table", "drop_column": "drops a column", "rename_table": "renames a table"}
RAW_SQL = re.compile(r"\b(DROP\s+(TABLE|COLUMN)|RENAME|SET\s+NOT\s+NULL)\b", re.IGNORECASE)


def is_false(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def not_null_without_default(keywords: dict) -> bool:
    return is_false(keywords.get("nullable")) and not {"server_default", "existing_server_default"} & set(keywords)


def literal_text(node) -> str:
    """The literal parts of a string argument (an f-string's too)."""
    return " ".join(part.value for part in ast.walk(node)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str))


def called(node) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def destructive(source: str) -> list[str]:
    """What the module does, outside ``downgrade``, that the previous release could not live with."""
    found = []
    for top in ast.parse(source).body:
        if isinstance(top, ast.FunctionDef) and top.name == "downgrade":
            continue
        for node in ast.walk(top):
            if not isinstance(node, ast.Call):
                continue
            name, keywords = called(node), {k.arg: k.value for k in node.keywords}
            if name in DROPS:
                found.append(f"line {node.lineno}: {DROPS[name]}")
            elif name == "alter_column" and "new_column_name" in keywords:
                found.append(f"line {node.lineno}: renames a column")
            elif name == "alter_column" and not_null_without_default(keywords):
                found.append(f"line {node.lineno}: makes a column NOT NULL without a server default")
            elif name == "add_column" and any(
                    isinstance(arg, ast.Call) and called(arg) == "Column"
                    and not_null_without_default({k.arg: k.value for k in arg.keywords}) for arg in node.args):
                found.append(f"line {node.lineno}: adds a NOT NULL column without a server default")
            elif name == "execute" and node.args and RAW_SQL.search(literal_text(node.args[0])):
                found.append(f"line {node.lineno}: raw SQL that drops, renames or sets NOT NULL")
    return found


def revisions():
    for service in SERVICES:
        for script in ScriptDirectory.from_config(alembic_config(service)).walk_revisions():
            yield service, script.revision, Path(script.path)


@pytest.mark.parametrize("service, revision, path", list(revisions()),
                         ids=lambda value: value.name if isinstance(value, Path) else str(value))
def test_every_revision_keeps_the_previous_release_working(service, revision, path):
    found = destructive(path.read_text())
    if (service, revision) in ALLOWED:
        assert found, f"{service} {revision} is allowed to be destructive but is not: take it off ALLOWED"
    else:
        assert not found, (f"{service} {revision} ({path.name}) would break the release still serving: "
                           f"{'; '.join(found)}. Expand now, contract in a later release "
                           "(docs/operations.md), or list it in ALLOWED with that release.")


@pytest.mark.parametrize("upgrade, kind", [
    ("op.drop_table('leads')", "drops a table"),
    ("with op.batch_alter_table('leads') as b:\n        b.drop_column('phone')", "drops a column"),
    ("op.rename_table('leads', 'inquiries')", "renames a table"),
    ("op.alter_column('leads', 'phone', new_column_name='mobile')", "renames a column"),
    ("op.alter_column('leads', 'grade', nullable=False)", "NOT NULL without a server default"),
    ("op.add_column('leads', sa.Column('grade', sa.String(), nullable=False))", "NOT NULL column"),
    ("op.execute(f'ALTER TABLE {name} DROP COLUMN phone')", "raw SQL"),
    ("op.execute('ALTER TABLE leads ALTER grade SET NOT NULL')", "raw SQL"),
])
def test_each_destructive_operation_is_found(upgrade, kind):
    found = destructive(f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    op.drop_table('x')\n")
    assert len(found) == 1 and kind in found[0]


@pytest.mark.parametrize("upgrade", [
    "op.add_column('leads', sa.Column('grade', sa.String(), nullable=True))",
    "op.add_column('leads', sa.Column('grade', sa.String(), nullable=False, server_default='N'))",
    "op.alter_column('leads', 'grade', nullable=False, server_default='N')",
    "op.create_table('grades', sa.Column('id', sa.Integer(), nullable=False))",
    "op.drop_index('ix_leads_phone')",
])
def test_expanding_is_allowed(upgrade):
    assert destructive(f"def upgrade():\n    {upgrade}\n") == []
