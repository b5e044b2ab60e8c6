"""Explicit transactions in deferred mode (sfbridge.transactions = 'deferred') through
sfbridge-proxy, with psycopg 3 and SQLAlchemy 2's ORM, as applications use them.

Usage: deferred_client.py URL TAG FLOW [EXISTING_ACCOUNT_ID]

FLOW:
  rollback   BEGIN; INSERT an Account; INSERT a Contact referring to it; UPDATE the existing
             Account; a SELECT sees all three; ROLLBACK.
  commit     the same, then COMMIT; the rows are read back by the ids the INSERTs returned.
  refused    an Account, then one without Name: the COMMIT fails with Salesforce's refusal.
  sqlalchemy an ORM session: add a parent Account and a child Contact, commit, use the objects.
  killed     an Account and a Contact, then COMMIT while the test kills the proxy: the
             connection is lost.
  commit_fails  Salesforce accepts, then PostgreSQL refuses the COMMIT (a deferred constraint).
  savepoint  ROLLBACK TO SAVEPOINT after a write in a failed transaction: refused.
  settings   the mode from SET, an invalid value, and the role's default.
  wait       two sessions UPDATE the existing Account in deferred transactions: the second
             waits for the first's COMMIT, then builds on its value.

Asserts what the client sees; prints on its last line a JSON object for proxy_orm_test, which
checks sfsim and the tables.
"""

import json
import sys
import threading
import time

import psycopg

url, tag, flow = sys.argv[1], sys.argv[2], sys.argv[3]
existing = sys.argv[4] if len(sys.argv) > 4 else None
deferred = {"options": "-c sfbridge.transactions=deferred"}
out = {}


def three_writes(conn):
    account = conn.execute(
        "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s) RETURNING id",
        (f"{tag} parent", f"{tag}-p"),
    ).fetchone()[0]
    contact = conn.execute(
        "INSERT INTO salesforce.contact (last_name, account_id) VALUES (%s, %s) RETURNING id",
        (tag, account),
    ).fetchone()[0]
    updated = conn.execute(
        "UPDATE salesforce.account SET description = %s WHERE id = %s", (tag, existing)
    ).rowcount
    assert updated == 1, updated
    # The transaction reads its own writes.
    seen = conn.execute(
        "SELECT (SELECT count(*) FROM salesforce.account WHERE account_number = %s),"
        " (SELECT count(*) FROM salesforce.contact WHERE last_name = %s AND account_id = %s),"
        " (SELECT description FROM salesforce.account WHERE id = %s)",
        (f"{tag}-p", tag, account, existing),
    ).fetchone()
    assert seen == (1, 1, tag), seen
    return account, contact


if flow in ("rollback", "commit"):
    with psycopg.connect(url, **deferred) as conn:
        account, contact = three_writes(conn)
        out["provisional"] = account
        if flow == "rollback":
            conn.rollback()
        else:
            conn.commit()
            # Read back by the ids the INSERTs returned before the COMMIT.
            row = conn.execute(
                "SELECT id, name FROM salesforce.account WHERE id = %s", (account,)
            ).fetchone()
            assert row is not None and row[1] == f"{tag} parent", row
            out["account"] = row[0]
            out["contact_account"] = conn.execute(
                "SELECT account_id FROM salesforce.contact WHERE id = %s", (contact,)
            ).fetchone()[0]
            conn.commit()
elif flow == "refused":
    with psycopg.connect(url, **deferred) as conn:
        conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s)",
            (f"{tag} fine", f"{tag}-fine"),
        )
        conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (NULL, %s)",
            (f"{tag}-bad",),
        )
        try:
            conn.commit()
        except psycopg.errors.NotNullViolation as e:
            out["error"] = e.sqlstate
        else:
            raise AssertionError("expected the COMMIT to fail")
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        out["rows"] = conn.execute(
            "SELECT count(*) FROM salesforce.account WHERE account_number LIKE %s", (f"{tag}-%",)
        ).fetchone()[0]
elif flow == "killed":
    # The proxy is killed while Salesforce answers the COMMIT: the client loses its connection.
    with psycopg.connect(url, **deferred) as conn:
        account = conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s) RETURNING id",
            (f"{tag} killed", f"{tag}-k"),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO salesforce.contact (last_name, account_id) VALUES (%s, %s)", (tag, account)
        )
        try:
            conn.commit()
        except psycopg.OperationalError as e:
            out["error"] = "connection lost"
            out["sqlstate"] = e.sqlstate
        else:
            raise AssertionError("expected the connection to be lost")
elif flow == "commit_fails":
    # Salesforce accepts the writes, then PostgreSQL refuses the commit (a deferred unique
    # constraint of the client's own): the error must say the writes are applied.
    with psycopg.connect(url, **deferred) as conn:
        conn.execute("CREATE TEMP TABLE mine (x int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        conn.execute("INSERT INTO mine VALUES (1), (1)")
        conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s)",
            (f"{tag} applied", f"{tag}-a"),
        )
        try:
            conn.commit()
        except psycopg.Error as e:
            out["error"] = e.sqlstate
            out["message"] = e.diag.message_primary
        else:
            raise AssertionError("expected the COMMIT to fail")
elif flow == "savepoint":
    # ROLLBACK TO SAVEPOINT after a write, in a failed transaction (an ORM's nested
    # transaction): refused, and nothing reaches Salesforce.
    with psycopg.connect(url, **deferred) as conn:
        conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s)",
            (f"{tag} before", f"{tag}-sp"),
        )
        conn.execute("SAVEPOINT s")
        try:
            conn.execute("SELECT 1/0")
        except psycopg.errors.DivisionByZero:
            pass
        try:
            conn.execute("ROLLBACK TO SAVEPOINT s")
        except psycopg.errors.FeatureNotSupported as e:
            out["error"] = e.sqlstate
        else:
            raise AssertionError("expected FeatureNotSupported")
        conn.rollback()
        out["rows"] = conn.execute(
            "SELECT count(*) FROM salesforce.account WHERE account_number = %s", (f"{tag}-sp",)
        ).fetchone()[0]
elif flow == "settings":
    # SET for the session, then an invalid value: the mode is read at a transaction's first write.
    with psycopg.connect(url) as conn:
        conn.execute("SET sfbridge.transactions = 'deferred'")
        conn.commit()
        out["set"] = conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s) RETURNING id",
            (f"{tag} set", f"{tag}-set"),
        ).fetchone()[0]
        conn.rollback()
        conn.execute("SET sfbridge.transactions = 'sometimes'")
        conn.commit()
        try:
            conn.execute(
                "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s)",
                (f"{tag} bad setting", f"{tag}-invalid"),
            )
        except psycopg.errors.InvalidParameterValue as e:
            out["invalid"] = e.sqlstate
        else:
            raise AssertionError("expected InvalidParameterValue")
        conn.rollback()
    # Whatever the role's default says (the test sets it with ALTER ROLE before this flow).
    with psycopg.connect(url) as conn:
        out["role"] = conn.execute(
            "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s) RETURNING id",
            (f"{tag} role", f"{tag}-role"),
        ).fetchone()[0]
        conn.rollback()
elif flow == "wait":
    first = psycopg.connect(url, **deferred)
    second = psycopg.connect(url, **deferred)
    first.execute(
        "UPDATE salesforce.account SET description = %s WHERE id = %s", ("first", existing)
    )
    done = {}

    def other():
        second.execute(
            "UPDATE salesforce.account SET description = description || ' then second'"
            " WHERE id = %s",
            (existing,),
        )
        done["at"] = time.monotonic()
        second.commit()

    t = threading.Thread(target=other)
    t.start()
    time.sleep(1.0)
    assert "at" not in done, "the second session did not wait for the first"
    committed = time.monotonic()
    first.commit()
    t.join(30)
    assert done["at"] >= committed, done
    out["description"] = first.execute(
        "SELECT description FROM salesforce.account WHERE id = %s", (existing,)
    ).fetchone()[0]
    first.close()
    second.close()
elif flow == "sqlalchemy":
    from sqlalchemy import FetchedValue, ForeignKey, String, create_engine
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class Account(Base):
        __tablename__ = "account"
        __table_args__ = {"schema": "salesforce"}
        id: Mapped[str] = mapped_column(String(18), primary_key=True, server_default=FetchedValue())
        name: Mapped[str | None]
        account_number: Mapped[str | None]
        owner_id: Mapped[str | None] = mapped_column(server_default=FetchedValue())
        contacts: Mapped[list["Contact"]] = relationship(back_populates="account")

    class Contact(Base):
        __tablename__ = "contact"
        __table_args__ = {"schema": "salesforce"}
        id: Mapped[str] = mapped_column(String(18), primary_key=True, server_default=FetchedValue())
        last_name: Mapped[str | None]
        name: Mapped[str | None] = mapped_column(server_default=FetchedValue())
        account_id: Mapped[str | None] = mapped_column(ForeignKey("salesforce.account.id"))
        owner_id: Mapped[str | None] = mapped_column(server_default=FetchedValue())
        account: Mapped[Account] = relationship(back_populates="contacts")

    sa_url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(sa_url, connect_args=deferred)
    with Session(engine) as session:
        parent = Account(name=f"{tag} orm", account_number=f"{tag}-orm")
        child = Contact(last_name=tag, account=parent)
        session.add_all([parent, child])
        session.commit()
        # Expired by the commit: each access reads the row back.
        assert parent.name == f"{tag} orm", parent.name
        assert child.account_id == parent.id, (child.account_id, parent.id)
        assert child.name == tag, child.name
        assert [c.last_name for c in parent.contacts] == [tag]
        out["account"] = parent.id
        out["contact"] = child.id
else:
    raise SystemExit(f"unknown flow {flow}")

print(json.dumps(out))
