"""SQLAlchemy 2 ORM writing to synced tables through sfbridge-proxy, as an application would.

Usage: sqlalchemy_client.py URL TAG FLOW

The models map every column of salesforce.account and salesforce.contact, the way a user maps
an existing table: Salesforce's system and formula columns and the writer's _synced_at /
_modstamp_ms as ordinary columns; the id as primary key with server_default=FetchedValue(), the
way SQLAlchemy is told that the database generates a non-integer key (it then reads it back with
RETURNING), and owner_id likewise, which Salesforce fills when it is not given. SQL is echoed
(engine echo=True), so a failure shows what SQLAlchemy sent and what came back.

Each FLOW is one scenario; what SQLAlchemy itself reports is asserted here, what reached
Salesforce and the tables is checked by proxy_orm_test from the JSON on the last line.
"""

import datetime
import decimal
import json
import sys
from typing import Optional

from sqlalchemy import BigInteger, Boolean, Date, DateTime, FetchedValue, Integer, Numeric, String
from sqlalchemy import create_engine, delete as delete_stmt, insert, inspect, select, text
from sqlalchemy import update as update_stmt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

url, tag, flow = sys.argv[1], sys.argv[2], sys.argv[3]


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"
    __table_args__ = {"schema": "salesforce"}

    id: Mapped[str] = mapped_column(String(18), primary_key=True, server_default=FetchedValue())
    name: Mapped[Optional[str]] = mapped_column(String)
    account_number: Mapped[Optional[str]] = mapped_column(String)
    type: Mapped[Optional[str]] = mapped_column(String)
    industry: Mapped[Optional[str]] = mapped_column(String)
    rating: Mapped[Optional[str]] = mapped_column(String)
    phone: Mapped[Optional[str]] = mapped_column(String)
    fax: Mapped[Optional[str]] = mapped_column(String)
    website: Mapped[Optional[str]] = mapped_column(String)
    billing_street: Mapped[Optional[str]] = mapped_column(String)
    billing_city: Mapped[Optional[str]] = mapped_column(String)
    billing_state: Mapped[Optional[str]] = mapped_column(String)
    billing_postal_code: Mapped[Optional[str]] = mapped_column(String)
    billing_country: Mapped[Optional[str]] = mapped_column(String)
    billing_latitude: Mapped[Optional[decimal.Decimal]] = mapped_column(Numeric)
    billing_longitude: Mapped[Optional[decimal.Decimal]] = mapped_column(Numeric)
    annual_revenue: Mapped[Optional[decimal.Decimal]] = mapped_column(Numeric)
    number_of_employees: Mapped[Optional[int]] = mapped_column(Integer)
    ownership: Mapped[Optional[str]] = mapped_column(String)
    description: Mapped[Optional[str]] = mapped_column(String)
    tier__c: Mapped[Optional[str]] = mapped_column(String)
    customer_since__c: Mapped[Optional[datetime.date]] = mapped_column(Date)
    # Salesforce sets the running user when none is given.
    owner_id: Mapped[Optional[str]] = mapped_column(String(18), server_default=FetchedValue())
    # System fields: Salesforce sets them.
    is_deleted: Mapped[Optional[bool]] = mapped_column(Boolean)
    created_date: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[Optional[str]] = mapped_column(String(18))
    last_modified_date: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    last_modified_by_id: Mapped[Optional[str]] = mapped_column(String(18))
    system_modstamp: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    # The sync's own columns.
    _synced_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    _modstamp_ms: Mapped[Optional[int]] = mapped_column(BigInteger)


class Contact(Base):
    __tablename__ = "contact"
    __table_args__ = {"schema": "salesforce"}

    id: Mapped[str] = mapped_column(String(18), primary_key=True, server_default=FetchedValue())
    account_id: Mapped[Optional[str]] = mapped_column(String(18))
    last_name: Mapped[Optional[str]] = mapped_column(String)
    first_name: Mapped[Optional[str]] = mapped_column(String)
    salutation: Mapped[Optional[str]] = mapped_column(String)
    name: Mapped[Optional[str]] = mapped_column(String)  # formula: FirstName LastName
    title: Mapped[Optional[str]] = mapped_column(String)
    department: Mapped[Optional[str]] = mapped_column(String)
    email: Mapped[Optional[str]] = mapped_column(String)
    phone: Mapped[Optional[str]] = mapped_column(String)
    mobile_phone: Mapped[Optional[str]] = mapped_column(String)
    birthdate: Mapped[Optional[datetime.date]] = mapped_column(Date)
    lead_source: Mapped[Optional[str]] = mapped_column(String)
    has_opted_out_of_email: Mapped[Optional[bool]] = mapped_column(Boolean)
    do_not_call: Mapped[Optional[bool]] = mapped_column(Boolean)
    description: Mapped[Optional[str]] = mapped_column(String)
    level__c: Mapped[Optional[str]] = mapped_column(String)
    legacy_id__c: Mapped[Optional[str]] = mapped_column(String)
    owner_id: Mapped[Optional[str]] = mapped_column(String(18), server_default=FetchedValue())
    is_deleted: Mapped[Optional[bool]] = mapped_column(Boolean)
    created_date: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[Optional[str]] = mapped_column(String(18))
    last_modified_date: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    last_modified_by_id: Mapped[Optional[str]] = mapped_column(String(18))
    system_modstamp: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    _synced_at: Mapped[Optional[datetime.datetime]] = mapped_column(DateTime(timezone=True))
    _modstamp_ms: Mapped[Optional[int]] = mapped_column(BigInteger)


engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), echo=True)
out = {"flow": flow}


def check_models_map_every_column():
    """The models map exactly the tables' columns, as PostgreSQL lists them."""
    db = inspect(engine)
    for model in (Account, Contact):
        table = model.__table__
        in_db = {c["name"] for c in db.get_columns(table.name, schema=table.schema)}
        in_model = {c.name for c in table.columns}
        assert in_db == in_model, (
            f"{table.fullname}: not mapped {sorted(in_db - in_model)}, "
            f"not in the table {sorted(in_model - in_db)}"
        )


def is_salesforce_id(value, prefix):
    return isinstance(value, str) and len(value) == 18 and value.startswith(prefix)


def assert_system_columns_read_back(record):
    """After commit the instance is expired: these reads load the row the sync wrote."""
    assert record.created_date is not None, record.created_date
    assert record.system_modstamp is not None, record.system_modstamp
    assert record.last_modified_date is not None, record.last_modified_date
    assert is_salesforce_id(record.created_by_id, "005"), record.created_by_id
    assert is_salesforce_id(record.owner_id, "005"), record.owner_id
    assert record.is_deleted is False, record.is_deleted
    assert record._synced_at is not None, record._synced_at
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    modstamp_ms = (record.system_modstamp - epoch) // datetime.timedelta(milliseconds=1)
    assert record._modstamp_ms == modstamp_ms, (
        record._modstamp_ms,
        record.system_modstamp,
    )


def add_commit():
    with Session(engine) as session:
        account = Account(name=f"{tag} one", account_number=f"{tag}-1", number_of_employees=7)
        session.add(account)
        session.commit()
        # Attribute access after commit re-reads the row.
        assert is_salesforce_id(account.id, "001"), account.id
        assert account.name == f"{tag} one", account.name
        assert account.number_of_employees == 7, account.number_of_employees
        assert_system_columns_read_back(account)
        out["account"] = account.id

        contact = Contact(last_name=tag, first_name="Ada", account_id=account.id)
        session.add(contact)
        session.commit()
        assert is_salesforce_id(contact.id, "003"), contact.id
        assert contact.name == f"Ada {tag}", contact.name  # the formula, as Salesforce computed it
        assert contact.account_id == account.id
        assert_system_columns_read_back(contact)
        out["contact"] = contact.id

        # Salesforce recomputes the formula; the next read after commit has it.
        contact.first_name = "Grace"
        session.commit()
        assert contact.name == f"Grace {tag}", contact.name


def add_all():
    with Session(engine) as session:
        accounts = [
            Account(name=f"{tag} {i}", account_number=f"{tag}-{i}", rating="Warm")
            for i in range(1, 4)
        ]
        session.add_all(accounts)
        session.commit()
        ids = [a.id for a in accounts]
        assert all(is_salesforce_id(i, "001") for i in ids), ids
        assert len(set(ids)) == 3, ids
        # Each instance got its own row's id back.
        for i, a in enumerate(accounts, start=1):
            assert a.account_number == f"{tag}-{i}", (a.id, a.account_number)
            assert_system_columns_read_back(a)
        out["accounts"] = ids


def update():
    with Session(engine) as session:
        account = Account(name=f"{tag} update", account_number=f"{tag}-u")
        session.add(account)
        session.commit()
        created = account.system_modstamp
        account.rating = "Hot"
        account.number_of_employees = 42
        account.billing_city = "Lyon"
        session.commit()
        assert account.rating == "Hot" and account.number_of_employees == 42
        assert account.billing_city == "Lyon"
        assert account.system_modstamp >= created, (account.system_modstamp, created)
        out["account"] = account.id

    # A fresh session loads what the table holds.
    with Session(engine) as session:
        again = session.get(Account, out["account"])
        assert (again.rating, again.number_of_employees, again.billing_city) == ("Hot", 42, "Lyon")


def delete():
    with Session(engine) as session:
        account = Account(name=f"{tag} delete", account_number=f"{tag}-d")
        session.add(account)
        session.commit()
        out["account"] = account.id
        session.delete(account)
        session.commit()
    with Session(engine) as session:
        assert session.get(Account, out["account"]) is None


def orm_statements():
    """SQLAlchemy 2's ORM-enabled INSERT, UPDATE and DELETE statements: a bulk INSERT returning
    the new objects, and an UPDATE and a DELETE that keep the session in sync by fetching the
    ids they touched (RETURNING on PostgreSQL)."""
    with Session(engine) as session:
        accounts = session.scalars(
            insert(Account).returning(Account),
            [{"name": f"{tag} {i}", "account_number": f"{tag}-{i}"} for i in (1, 2, 3)],
        ).all()
        assert [a.account_number for a in accounts] == [f"{tag}-1", f"{tag}-2", f"{tag}-3"]
        assert all(is_salesforce_id(a.id, "001") for a in accounts), [a.id for a in accounts]
        assert all(a.created_date is not None for a in accounts)
        session.commit()
        out["accounts"] = [a.id for a in accounts]

        result = session.execute(
            update_stmt(Account)
            .where(Account.account_number.in_([f"{tag}-1", f"{tag}-2"]))
            .values(rating="Cold"),
            execution_options={"synchronize_session": "fetch"},
        )
        assert result.rowcount == 2, result.rowcount
        assert [a.rating for a in accounts] == ["Cold", "Cold", None]
        result = session.execute(
            delete_stmt(Account).where(Account.account_number == f"{tag}-3"),
            execution_options={"synchronize_session": "fetch"},
        )
        assert result.rowcount == 1, result.rowcount
        session.commit()
        left = session.scalars(
            select(Account.account_number).where(Account.account_number.like(f"{tag}-%"))
        ).all()
        assert sorted(left) == [f"{tag}-1", f"{tag}-2"], left


def refused():
    """Account.Name is required: Salesforce refuses, SQLAlchemy raises IntegrityError."""
    with Session(engine) as session:
        session.add(Account(account_number=f"{tag}-refused"))
        try:
            session.commit()
        except IntegrityError as e:
            out["sqlstate"] = e.orig.sqlstate
            out["error"] = str(e.orig).splitlines()[0]
            session.rollback()
        else:
            raise AssertionError("the write without Name was accepted")
        # The session goes on.
        n = session.scalar(
            select(Account.id).where(Account.account_number == f"{tag}-refused").limit(1)
        )
        assert n is None, n
        assert session.execute(text("SELECT 1")).scalar() == 1


check_models_map_every_column()
{"add_commit": add_commit, "add_all": add_all, "update": update, "delete": delete,
 "orm_statements": orm_statements, "refused": refused}[flow]()
print(json.dumps(out), flush=True)
