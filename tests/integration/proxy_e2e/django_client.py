"""Django's ORM writing to synced tables through sfbridge-proxy, as an application would.

Usage: django_client.py URL TAG FLOW

The models are those of sfapp/models.py (managed = False). Every SQL statement Django runs is
logged (the django.db.backends logger, DEBUG = True), so a failure shows what Django sent.

Each FLOW is one scenario; what Django itself reports is asserted here, what reached Salesforce
and the tables is checked by proxy_orm_test from the JSON on the last line.
"""

import datetime
import json
import os
import sys
import urllib.parse

import django
from django.conf import settings

url, tag, flow = sys.argv[1], sys.argv[2], sys.argv[3]
parsed = urllib.parse.urlparse(url)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
settings.configure(
    DEBUG=True,
    USE_TZ=True,
    INSTALLED_APPS=["sfapp"],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parsed.path.lstrip("/"),
            "USER": parsed.username,
            "HOST": parsed.hostname,
            "PORT": parsed.port,
        }
    },
    LOGGING={
        "version": 1,
        "handlers": {"console": {"class": "logging.StreamHandler", "stream": sys.stdout}},
        "loggers": {"django.db.backends": {"level": "DEBUG", "handlers": ["console"]}},
    },
)
django.setup()

from django.db import IntegrityError, connection  # noqa: E402

from sfapp.models import Account, Contact  # noqa: E402

out = {"flow": flow}


def check_models_map_every_column():
    """The models map exactly the tables' columns, as PostgreSQL lists them."""
    with connection.cursor() as cursor:
        for model in (Account, Contact):
            table = model._meta.db_table.replace('"', "").split(".")[1]
            cursor.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = 'salesforce' AND table_name = %s",
                [table],
            )
            in_db = {r[0] for r in cursor.fetchall()}
            in_model = {f.column for f in model._meta.concrete_fields}
            assert in_db == in_model, (
                f"{table}: not mapped {sorted(in_db - in_model)}, "
                f"not in the table {sorted(in_model - in_db)}"
            )


def is_salesforce_id(value, prefix):
    return isinstance(value, str) and len(value) == 18 and value.startswith(prefix)


def assert_salesforce_values(record):
    """The values Salesforce and the sync set, as the instance holds them."""
    assert record.created_date is not None, record.created_date
    assert record.system_modstamp is not None, record.system_modstamp
    assert is_salesforce_id(record.created_by_id, "005"), record.created_by_id
    assert is_salesforce_id(record.owner_id, "005"), record.owner_id
    assert record.is_deleted is False, record.is_deleted
    assert record._synced_at is not None, record._synced_at
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    modstamp_ms = (record.system_modstamp - epoch) // datetime.timedelta(milliseconds=1)
    assert record._modstamp_ms == modstamp_ms, (record._modstamp_ms, record.system_modstamp)


def create():
    account = Account.objects.create(name=f"{tag} one", account_number=f"{tag}-1")
    # Returned by the INSERT itself.
    assert is_salesforce_id(account.id, "001"), account.id
    assert_salesforce_values(account)
    out["account"] = account.id

    contact = Contact.objects.create(last_name=tag, first_name="Ada", account=account)
    assert is_salesforce_id(contact.id, "003"), contact.id
    assert contact.name == f"Ada {tag}", contact.name  # the formula, as Salesforce computed it
    assert_salesforce_values(contact)
    out["contact"] = contact.id

    again = Contact.objects.select_related("account").get(pk=contact.id)
    assert again.account.name == f"{tag} one", again.account.name

    # Salesforce recomputes the formula; refresh_from_db() reads it.
    contact.first_name = "Grace"
    contact.save(update_fields=["first_name"])
    contact.refresh_from_db()
    assert contact.name == f"Grace {tag}", contact.name


def save():
    account = Account(name=f"{tag} save", account_number=f"{tag}-s")
    account.save()  # an INSERT: the primary key has a db_default
    assert is_salesforce_id(account.id, "001"), account.id
    assert_salesforce_values(account)
    created = account.system_modstamp
    out["account"] = account.id

    account.rating = "Hot"
    account.number_of_employees = 42
    account.save()  # an UPDATE of every column Django may write
    account.refresh_from_db()
    assert (account.rating, account.number_of_employees) == ("Hot", 42)
    assert account.system_modstamp >= created, (account.system_modstamp, created)
    assert_salesforce_values(account)

    account.description = "saved with update_fields"
    account.save(update_fields=["description"])
    loaded = Account.objects.get(pk=account.id)
    assert loaded.description == "saved with update_fields", loaded.description
    assert (loaded.rating, loaded.number_of_employees) == ("Hot", 42)


def bulk_create():
    created = Account.objects.bulk_create(
        [Account(name=f"{tag} {i}", account_number=f"{tag}-{i}", rating="Warm") for i in (1, 2, 3)]
    )
    assert len(created) == 3
    for a in created:
        assert_salesforce_values(a)
    rows = list(Account.objects.filter(account_number__startswith=f"{tag}-").order_by("account_number"))
    assert [a.account_number for a in rows] == [f"{tag}-1", f"{tag}-2", f"{tag}-3"], rows
    assert all(is_salesforce_id(a.id, "001") for a in rows)
    out["accounts"] = [a.id for a in rows]


def update():
    Account.objects.bulk_create(
        [Account(name=f"{tag} {i}", account_number=f"{tag}-{i}") for i in (1, 2, 3)]
    )
    n = Account.objects.filter(account_number__in=[f"{tag}-1", f"{tag}-2"]).update(
        rating="Cold", number_of_employees=5
    )
    assert n == 2, n
    assert Account.objects.filter(account_number__startswith=f"{tag}-", rating="Cold").count() == 2
    out["accounts"] = list(
        Account.objects.filter(account_number__startswith=f"{tag}-")
        .order_by("account_number")
        .values_list("id", flat=True)
    )


def delete():
    one = Account.objects.create(name=f"{tag} 1", account_number=f"{tag}-1")
    Account.objects.create(name=f"{tag} 2", account_number=f"{tag}-2")
    Account.objects.create(name=f"{tag} 3", account_number=f"{tag}-3")
    out["deleted_one"] = one.id
    n, per_model = one.delete()
    assert n == 1 and per_model == {"sfapp.Account": 1}, (n, per_model)
    n, _ = Account.objects.filter(account_number__in=[f"{tag}-2", f"{tag}-3"]).delete()
    assert n == 2, n
    assert not Account.objects.filter(account_number__startswith=f"{tag}-").exists()


def get_or_create():
    account, created = Account.objects.get_or_create(
        account_number=f"{tag}-g", defaults={"name": f"{tag} got"}
    )
    assert created is True
    assert is_salesforce_id(account.id, "001"), account.id
    assert_salesforce_values(account)
    again, created = Account.objects.get_or_create(
        account_number=f"{tag}-g", defaults={"name": f"{tag} twice"}
    )
    assert created is False
    assert again.id == account.id and again.name == f"{tag} got", (again.id, again.name)
    out["account"] = account.id


def refused():
    """Account.Name is required: Salesforce refuses, Django raises IntegrityError."""
    try:
        Account.objects.create(account_number=f"{tag}-refused")
    except IntegrityError as e:
        out["sqlstate"] = getattr(e.__cause__, "sqlstate", None)
        out["error"] = str(e).splitlines()[0]
    else:
        raise AssertionError("the write without Name was accepted")
    # The connection goes on.
    assert not Account.objects.filter(account_number=f"{tag}-refused").exists()


check_models_map_every_column()
{"create": create, "save": save, "bulk_create": bulk_create, "update": update, "delete": delete,
 "get_or_create": get_or_create, "refused": refused}[flow]()
print(json.dumps(out), flush=True)
