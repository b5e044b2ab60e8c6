"""Batches of writes through sfbridge-proxy, sent the way each driver sends them.

Usage: batch_client.py URL TAG FLOW BAD

FLOW: asyncpg_executemany, psycopg_executemany, psycopg_pipeline or multi_statement. Each
inserts five Accounts (AccountNumber TAG-1 .. TAG-5) in one batch; with BAD=1 the third has no
Name, which Salesforce refuses. Prints, on its last line, {"error": SQLSTATE or null, "rows":
number of the batch's rows the client then reads through the proxy}. What reached Salesforce
and the tables is checked by proxy_orm_test.
"""

import asyncio
import json
import sys

url, tag, flow, bad = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
rows = [(None if bad and i == 3 else f"{tag} batch {i}", f"{tag}-{i}") for i in range(1, 6)]
insert = "INSERT INTO salesforce.account (name, account_number) VALUES (%s, %s)"
count = "SELECT count(*) FROM salesforce.account WHERE account_number LIKE %s"


def literal(value):
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


async def with_asyncpg():
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        error = None
        try:
            await conn.executemany(
                "INSERT INTO salesforce.account (name, account_number) VALUES ($1, $2)", rows
            )
        except asyncpg.PostgresError as e:
            error = e.sqlstate
        seen = await conn.fetchval(
            "SELECT count(*) FROM salesforce.account WHERE account_number LIKE $1", f"{tag}-%"
        )
        return error, seen
    finally:
        await conn.close()


def with_psycopg():
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        error = None
        try:
            if flow == "psycopg_executemany":
                with conn.cursor() as cur:
                    cur.executemany(insert, rows)
            elif flow == "psycopg_pipeline":
                with conn.pipeline():
                    for row in rows:
                        conn.execute(insert, row)
            else:  # multi_statement: one simple Query holding every INSERT
                conn.execute(
                    " ".join(
                        "INSERT INTO salesforce.account (name, account_number) VALUES "
                        f"({literal(name)}, {literal(number)});"
                        for name, number in rows
                    )
                )
        except psycopg.Error as e:
            error = e.sqlstate
        seen = conn.execute(count, (f"{tag}-%",)).fetchone()[0]
        return error, seen


if flow == "asyncpg_executemany":
    error, seen = asyncio.run(with_asyncpg())
else:
    error, seen = with_psycopg()
print(json.dumps({"error": error, "rows": seen}))
