"""A small CRUD API on a Supabase (PostgreSQL) database, with FastAPI, SQLAlchemy's asyncio engine and asyncpg.

DATABASE_URL comes from ferry_supabase_integration with driver = "sqlalchemy+asyncpg": it arrives made right for
SQLAlchemy and the pool mode (postgresql+asyncpg://...?ssl=require&prepared_statement_cache_size=0), and through
Supabase's transaction pooler the runtime has already set asyncpg up for it. Nothing here is specific to ferry.

The engine and the table are made in the lifespan startup, not at import time: importing the app stays fast, needs
no database, and each worker process gets connections of its own.
"""
import os
from contextlib import asynccontextmanager
from typing import Optional

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import create_async_engine

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Any constant: it only has to be the same in every worker.
CREATE_TABLES_LOCK = 20240601


@asynccontextmanager
async def lifespan(app):
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set: add a ferry_supabase_integration for this deployment's target")
    engine = create_async_engine(url, pool_pre_ping=True)
    async with engine.begin() as conn:
        # Workers start together: one creates the table while the others wait on the lock.
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(CREATE_TABLES_LOCK)))
        await conn.run_sync(metadata.create_all)
    app.state.engine = engine
    yield
    await engine.dispose()


app = FastAPI(title="fastapi-supabase")
# FastAPI(lifespan=lifespan) from FastAPI 0.93 on; setting the router's works on older versions too.
app.router.lifespan_context = lifespan


class ItemIn(BaseModel):
    name: str
    done: bool = False


class ItemPatch(BaseModel):
    name: Optional[str] = None
    done: Optional[bool] = None


def as_dict(row):
    return {"id": row.id, "name": row.name, "done": row.done}


@app.get("/")
async def index():
    return {"app": "fastapi-supabase", "environment": os.environ.get("VERCEL_ENV", "local")}


@app.get("/items")
async def list_items(request: Request):
    async with request.app.state.engine.connect() as conn:
        rows = await conn.execute(sa.select(items).order_by(items.c.id))
        return [as_dict(row) for row in rows]


@app.post("/items", status_code=201)
async def create_item(item: ItemIn, request: Request):
    async with request.app.state.engine.begin() as conn:
        row = (await conn.execute(items.insert().values(name=item.name, done=item.done).returning(*items.c))).one()
        return as_dict(row)


@app.get("/items/{item_id}")
async def get_item(item_id: int, request: Request):
    async with request.app.state.engine.connect() as conn:
        row = (await conn.execute(sa.select(items).where(items.c.id == item_id))).one_or_none()
    if row is None:
        raise HTTPException(status_code=404, detail="no item %d" % item_id)
    return as_dict(row)


@app.patch("/items/{item_id}")
async def update_item(item_id: int, patch: ItemPatch, request: Request):
    values = {k: v for k, v in (("name", patch.name), ("done", patch.done)) if v is not None}
    if not values:
        return await get_item(item_id, request)
    async with request.app.state.engine.begin() as conn:
        statement = items.update().where(items.c.id == item_id).values(**values).returning(*items.c)
        row = (await conn.execute(statement)).one_or_none()
    if row is None:
        raise HTTPException(status_code=404, detail="no item %d" % item_id)
    return as_dict(row)


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int, request: Request):
    async with request.app.state.engine.begin() as conn:
        deleted = (await conn.execute(items.delete().where(items.c.id == item_id))).rowcount
    if not deleted:
        raise HTTPException(status_code=404, detail="no item %d" % item_id)
    return Response(status_code=204)
