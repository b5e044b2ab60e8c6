"""Writes to synced tables through sfbridge-proxy with psycopg 3, as an application would.

Usage: psycopg_client.py URL TAG

Every check of what psycopg itself reports is an assert here; what reached Salesforce and the
tables is checked by proxy_e2e_test from the JSON printed on the last line.
"""

import datetime
import json
import sys

import psycopg
from psycopg import errors

url, tag = sys.argv[1], sys.argv[2]
out = {}

with psycopg.connect(url, autocommit=True) as conn:
    # INSERT with parameters and RETURNING: the formula field Name comes back as Salesforce
    # computed it.
    cur = conn.execute(
        "INSERT INTO salesforce.contact (last_name, first_name, email, do_not_call, birthdate)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id, name, do_not_call, birthdate",
        (tag, "Ada", f"{tag}@example.com", True, "1990-02-03"),
    )
    assert cur.rowcount == 1, cur.rowcount
    row = cur.fetchone()
    assert row[1] == f"Ada {tag}", row
    assert row[2] is True, row
    assert str(row[3]) == "1990-02-03", row
    out["inserted"] = row[0]

    cur = conn.execute(
        "UPDATE salesforce.contact SET title = %s, do_not_call = %s WHERE id = %s"
        " RETURNING id, title",
        ("Engineer", False, out["inserted"]),
    )
    assert cur.rowcount == 1 and cur.fetchone() == (out["inserted"], "Engineer")

    # executemany: psycopg sends the statements in pipeline mode.
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO salesforce.contact (last_name, first_name) VALUES (%s, %s)",
            [(tag, f"Many{i}") for i in range(1, 6)],
        )
        assert cur.rowcount == 5, cur.rowcount
    many = conn.execute(
        "SELECT id FROM salesforce.contact WHERE last_name = %s AND first_name LIKE 'Many%%'"
        " ORDER BY first_name",
        (tag,),
    ).fetchall()
    assert len(many) == 5, many
    out["many"] = [r[0] for r in many]

    # Pipeline mode: several writes and a read sent before any reply is read.
    with conn.pipeline():
        c1 = conn.execute(
            "UPDATE salesforce.contact SET department = %s WHERE id = %s",
            ("Pipeline", out["many"][0]),
        )
        c2 = conn.execute(
            "UPDATE salesforce.contact SET department = %s WHERE id = ANY(%s)",
            ("Pipeline", out["many"][1:3]),
        )
        c3 = conn.execute(
            "DELETE FROM salesforce.contact WHERE id = %s RETURNING first_name",
            (out["many"][4],),
        )
        c4 = conn.execute(
            "INSERT INTO salesforce.contact (last_name, first_name, department)"
            " VALUES (%s, %s, %s) RETURNING id",
            (tag, "Piped", "Pipeline"),
        )
        c5 = conn.execute(
            "SELECT count(*) FROM salesforce.contact WHERE last_name = %s", (tag,)
        )
    assert c1.rowcount == 1, c1.rowcount
    assert c2.rowcount == 2, c2.rowcount
    assert c3.rowcount == 1 and c3.fetchone() == ("Many5",)
    out["piped"] = c4.fetchone()[0]
    # The statements ran in order: the read sees every write before it.
    assert c5.fetchone() == (1 + 5 - 1 + 1,)
    out["deleted"] = out["many"][4]

    # Binary parameters (%b) and binary results, on a statement prepared on the server.
    for title in ("Binary 1", "Binary 2"):
        cur = conn.cursor(binary=True)
        cur.execute(
            "UPDATE salesforce.contact SET title = %b, birthdate = %b WHERE id = %b"
            " RETURNING title, birthdate, do_not_call, _modstamp_ms",
            (title, datetime.date(1991, 4, 5), out["inserted"]),
            prepare=True,
        )
        row = cur.fetchone()
        assert row[:3] == (title, datetime.date(1991, 4, 5), False), row
        assert row[3] > 0, row

    # Client-side binding: the values inlined into the SQL, sent with the simple protocol.
    with psycopg.ClientCursor(conn) as cur:
        cur.execute(
            "UPDATE salesforce.contact SET description = %s WHERE id = %s",
            ("it's inlined \\ as is", out["inserted"]),
        )
        assert cur.rowcount == 1, cur.rowcount

    # executemany with RETURNING: the rows of every statement.
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE salesforce.contact SET mobile_phone = %s WHERE id = %s RETURNING id",
            [(f"+1 555 000{i}", id) for i, id in enumerate(out["many"][:2])],
            returning=True,
        )
        got = []
        while True:
            got.append(cur.fetchone()[0])
            if not cur.nextset():
                break
        assert got == out["many"][:2], got

    # A rejection inside a pipeline: the pipeline is all or none, so what came before it is not
    # applied either, what follows it is skipped, and the pipeline reports the error.
    try:
        with conn.pipeline():
            conn.execute(
                "UPDATE salesforce.contact SET department = %s WHERE id = %s",
                ("Before error", out["many"][3]),
            )
            conn.execute(
                "INSERT INTO salesforce.contact (first_name) VALUES (%s)", (f"{tag}-rejected",)
            )
            conn.execute(
                "UPDATE salesforce.contact SET department = %s WHERE id = %s",
                ("After error", out["many"][3]),
            )
    except errors.NotNullViolation:
        pass
    else:
        raise AssertionError("expected NotNullViolation from the pipeline")
    out["pipeline_error_department"] = conn.execute(
        "SELECT department FROM salesforce.contact WHERE id = %s", (out["many"][3],)
    ).fetchone()[0]

    # A rejection by Salesforce is psycopg's own exception class, in a transaction that is
    # rolled back; the connection goes on.
    try:
        with conn.transaction():
            conn.execute(
                "INSERT INTO salesforce.contact (first_name) VALUES (%s)", (f"{tag}-rejected",)
            )
    except errors.NotNullViolation as e:
        assert e.sqlstate == "23502", e.sqlstate
        assert e.diag.column_name == "last_name", e.diag.column_name
        assert "Required fields are missing" in str(e), str(e)
    else:
        raise AssertionError("expected NotNullViolation")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

# Without autocommit: the failed transaction needs a rollback, then the connection works.
with psycopg.connect(url) as conn:
    try:
        conn.execute(
            "UPDATE salesforce.contact SET email = %s WHERE id = %s",
            ("not an email", out["inserted"]),
        )
    except errors.InvalidParameterValue as e:
        assert e.sqlstate == "22023", e.sqlstate
    else:
        raise AssertionError("expected InvalidParameterValue")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    conn.rollback()
    cur = conn.execute(
        "UPDATE salesforce.contact SET title = %s WHERE id = %s", ("After rollback", out["inserted"])
    )
    assert cur.rowcount == 1
    conn.commit()

print(json.dumps(out))
