"""A concurrent database workload, run the way a deployment runs: the bootstrap's driver settings are applied
from FERRY_DB_DRIVER_SETTINGS and the driver is imported; then, for each URL in turn, two worker processes are
forked and each runs CLIENTS concurrent clients (threads, or tasks for async drivers) doing ROUNDS transactions of
an insert and a count on table TABLE_<n>, and the parent checks that every row is there.

    python3 dbworkload.py BOOTSTRAP_DIR DRIVER TABLE URL...

Prints a line of JSON per URL: {"url": n, "rows": N} on success, {"url": n, "error": "..."} on failure (exit 1),
or one {"unsupported": "..."} when the installed libraries cannot run DRIVER at all (exit 3).
"""

import asyncio
import json
import os
import sys
import threading
import traceback

WORKERS = 2
CLIENTS = 8
ROUNDS = 12


def report(**result):
    print(json.dumps(result), flush=True)


def describe(exc):
    text = str(exc).strip()
    return "%s: %s" % (type(exc).__name__, text.splitlines()[0] if text else "")


# Each driver has a workload(url, table, worker), which runs the clients and raises the first error, and a
# count(url, table) of the rows.

def asyncpg_workload(url, table, worker):
    import asyncpg

    async def client(pool, n):
        for i in range(ROUNDS):
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await conn.execute("INSERT INTO %s (worker, client, round) VALUES ($1, $2, $3)" % table, worker, n, i)
                    await conn.fetchval("SELECT count(*) FROM %s WHERE worker = $1 AND client = $2" % table, worker, n)

    async def clients():
        pool = await asyncpg.create_pool(url, min_size=CLIENTS, max_size=CLIENTS)
        try:
            await asyncio.gather(*(client(pool, n) for n in range(CLIENTS)))
        finally:
            await pool.close()

    asyncio.run(clients())


def asyncpg_count(url, table):
    import asyncpg

    async def count():
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval("SELECT count(*) FROM %s" % table)
        finally:
            await conn.close()

    return asyncio.run(count())


def run_threads(target):
    errors = []

    def guarded(n):
        try:
            target(n)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def psycopg2_workload(url, table, worker):
    import psycopg2

    def client(n):
        conn = psycopg2.connect(url)
        try:
            for i in range(ROUNDS):
                with conn, conn.cursor() as cur:
                    cur.execute("INSERT INTO " + table + " (worker, client, round) VALUES (%s, %s, %s)", (worker, n, i))
                    cur.execute("SELECT count(*) FROM " + table + " WHERE worker = %s AND client = %s", (worker, n))
                    cur.fetchone()
        finally:
            conn.close()

    run_threads(client)


def psycopg2_count(url, table):
    import psycopg2
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM " + table)
            return cur.fetchone()[0]
    finally:
        conn.close()


def psycopg_workload(url, table, worker):
    import psycopg

    def client(n):
        with psycopg.connect(url) as conn:
            for i in range(ROUNDS):
                with conn.transaction():
                    conn.execute("INSERT INTO " + table + " (worker, client, round) VALUES (%s, %s, %s)", (worker, n, i))
                    conn.execute("SELECT count(*) FROM " + table + " WHERE worker = %s AND client = %s", (worker, n)).fetchone()

    run_threads(client)


def psycopg_count(url, table):
    import psycopg
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM " + table).fetchone()[0]


def sqlalchemy_table(table):
    import sqlalchemy as sa
    return sa.Table(table, sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True), sa.Column("worker", sa.Integer),
                    sa.Column("client", sa.Integer), sa.Column("round", sa.Integer))


def sqlalchemy_async_workload(url, table, worker):
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    rows = sqlalchemy_table(table)

    async def client(engine, n):
        for i in range(ROUNDS):
            async with engine.begin() as conn:
                await conn.execute(rows.insert().values(worker=worker, client=n, round=i))
                await conn.execute(sa.select(sa.func.count()).select_from(rows).where(rows.c.worker == worker, rows.c.client == n))

    async def clients():
        engine = create_async_engine(url, pool_size=CLIENTS, max_overflow=0)
        try:
            await asyncio.gather(*(client(engine, n) for n in range(CLIENTS)))
        finally:
            await engine.dispose()

    asyncio.run(clients())


def sqlalchemy_async_count(url, table):
    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine
    rows = sqlalchemy_table(table)

    async def count():
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return (await conn.execute(sa.select(sa.func.count()).select_from(rows))).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(count())


def sqlalchemy_sync_workload(url, table, worker):
    import sqlalchemy as sa
    rows = sqlalchemy_table(table)
    engine = sa.create_engine(url, pool_size=CLIENTS, max_overflow=0)

    def client(n):
        for i in range(ROUNDS):
            with engine.begin() as conn:
                conn.execute(rows.insert().values(worker=worker, client=n, round=i))
                conn.execute(sa.select(sa.func.count()).select_from(rows).where(rows.c.worker == worker, rows.c.client == n))

    try:
        run_threads(client)
    finally:
        engine.dispose()


def sqlalchemy_sync_count(url, table):
    import sqlalchemy as sa
    rows = sqlalchemy_table(table)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(rows)).scalar()
    finally:
        engine.dispose()


DRIVERS = {
    "asyncpg": (asyncpg_workload, asyncpg_count),
    "psycopg2": (psycopg2_workload, psycopg2_count),
    "psycopg": (psycopg_workload, psycopg_count),
    "sqlalchemy+asyncpg": (sqlalchemy_async_workload, sqlalchemy_async_count),
    "sqlalchemy+psycopg2": (sqlalchemy_sync_workload, sqlalchemy_sync_count),
    "sqlalchemy+psycopg": (sqlalchemy_sync_workload, sqlalchemy_sync_count),
}


def unsupported(driver):
    """Why the installed libraries cannot run driver at all, or None."""
    if driver == "sqlalchemy+psycopg":
        import sqlalchemy
        if int(sqlalchemy.__version__.split(".")[0]) < 2:
            return "SQLAlchemy %s has no psycopg 3 dialect (postgresql+psycopg needs SQLAlchemy 2.0)" % sqlalchemy.__version__
    return None


def run_url(driver, url, table, index):
    """Runs the workload on one URL; False when it failed."""
    workload, count = DRIVERS[driver]
    pids = []
    for worker in range(WORKERS):
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                workload(url, table, worker)
            except BaseException as exc:  # asyncio's CancelledError too: a timeout must be told, not lost
                report(url=index, error=describe(exc))
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                os._exit(code)
        pids.append(pid)
    if [pid for pid in pids if os.waitpid(pid, 0)[1] != 0]:
        return False
    try:
        rows = count(url, table)
    except Exception as exc:
        report(url=index, error=describe(exc))
        return False
    want = WORKERS * CLIENTS * ROUNDS
    if rows != want:
        report(url=index, error="%d rows, want %d" % (rows, want))
        return False
    report(url=index, rows=rows)
    return True


def main():
    bootstrap_dir, driver, table, *urls = sys.argv[1:]
    sys.path.insert(0, bootstrap_dir)
    import bootstrap
    bootstrap.apply_driver_settings(os.environ.get(bootstrap.DRIVER_SETTINGS_ENV, ""))
    why = unsupported(driver)
    if why:
        report(unsupported=why)
        return 3
    ok = True
    for index, url in enumerate(urls):
        ok = run_url(driver, url, "%s_%d" % (table, index), index) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        report(url=-1, error=describe(exc))
        traceback.print_exc()
        sys.exit(1)
