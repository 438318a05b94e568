"""Ordered, named migrations of the DuckDB store.

A migration runs once, inside the same transaction that records it in
``schema_migrations``. A store that has a migration this tradekit does not
know is newer and is refused, never touched.
"""

from __future__ import annotations

from tradekit.store import trades_daily

MONEY = "DECIMAL(28, 8)"

M001_INITIAL = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    ts TIMESTAMPTZ NOT NULL,
    wall_ts TIMESTAMPTZ NOT NULL,
    type VARCHAR NOT NULL,
    account VARCHAR NOT NULL,
    payload JSON NOT NULL
);
CREATE TABLE orders (
    client_order_id VARCHAR PRIMARY KEY,
    account VARCHAR NOT NULL,
    instrument_id VARCHAR NOT NULL,
    side VARCHAR NOT NULL,
    quantity INTEGER NOT NULL,
    order_type VARCHAR NOT NULL,
    limit_price {MONEY},
    stop_price {MONEY},
    strategy VARCHAR,
    reason VARCHAR,
    created_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,
    broker_order_id VARCHAR,
    filled_quantity INTEGER NOT NULL,
    average_fill_price {MONEY},
    signal_price {MONEY},
    status_reason VARCHAR,
    protective_stop {MONEY}
);
CREATE TABLE fills (
    account VARCHAR NOT NULL,
    fill_id VARCHAR NOT NULL,
    instrument_id VARCHAR NOT NULL,
    side VARCHAR NOT NULL,
    quantity INTEGER NOT NULL,
    price {MONEY} NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    client_order_id VARCHAR,
    broker_order_id VARCHAR,
    costs {MONEY} NOT NULL,
    PRIMARY KEY (account, fill_id)
);
CREATE TABLE positions (
    account VARCHAR NOT NULL,
    instrument_id VARCHAR NOT NULL,
    quantity INTEGER NOT NULL,
    average_price {MONEY} NOT NULL,
    realized_pnl {MONEY} NOT NULL,
    costs {MONEY} NOT NULL,
    opened_at TIMESTAMPTZ,
    strategy VARCHAR,
    external BOOLEAN NOT NULL,
    open_trade JSON,
    PRIMARY KEY (account, instrument_id)
);
CREATE TABLE trades (
    account VARCHAR NOT NULL,
    trade_id VARCHAR NOT NULL,
    strategy VARCHAR,
    instrument_id VARCHAR NOT NULL,
    side VARCHAR NOT NULL,
    quantity INTEGER NOT NULL,
    entry_ts TIMESTAMPTZ NOT NULL,
    entry_price {MONEY} NOT NULL,
    exit_ts TIMESTAMPTZ NOT NULL,
    exit_price {MONEY} NOT NULL,
    gross_pnl {MONEY} NOT NULL,
    costs {MONEY} NOT NULL,
    net_pnl {MONEY} NOT NULL,
    pnl_pct DECIMAL(18, 4) NOT NULL,
    exit_reason VARCHAR,
    slippage {MONEY} NOT NULL,
    partial_exits INTEGER NOT NULL,
    external BOOLEAN NOT NULL,
    PRIMARY KEY (account, trade_id)
);
CREATE TABLE accounts (
    account VARCHAR PRIMARY KEY,
    cash {MONEY} NOT NULL,
    current_day DATE,
    order_count BIGINT NOT NULL,
    trade_count BIGINT NOT NULL,
    last_fill_ts TIMESTAMPTZ
);
CREATE TABLE accounts_daily (
    account VARCHAR NOT NULL,
    day DATE NOT NULL,
    open_cash {MONEY} NOT NULL,
    close_cash {MONEY},
    close_equity {MONEY},
    PRIMARY KEY (account, day)
);
CREATE TABLE strategy_state (
    account VARCHAR NOT NULL,
    strategy VARCHAR NOT NULL,
    day DATE NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    state JSON NOT NULL,
    PRIMARY KEY (account, strategy)
);
CREATE TABLE blocks (
    account VARCHAR NOT NULL,
    strategy VARCHAR NOT NULL,
    day DATE NOT NULL,
    rule VARCHAR NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (account, strategy, day, rule)
);
"""

M002_RISK_STATE = """
CREATE TABLE risk_state (
    account VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    day DATE NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    value JSON,
    reason VARCHAR,
    PRIMARY KEY (account, key)
);
"""

M003_RECONCILE_AUDIT = """
CREATE VIEW reconcile_audit AS
SELECT seq, ts, wall_ts, account,
       payload->>'source' AS source,
       payload->>'broker' AS broker,
       payload->>'kind' AS kind,
       payload->>'instrument_id' AS instrument_id,
       payload->>'before' AS before,
       payload->>'after' AS after,
       payload->>'reason' AS reason
FROM events WHERE type = 'ReconcileAudit';
"""
"""Audit rows of sync/reconcile: a view over the journal, so no projection code exists for it."""

M004_TRADES_DAILY = trades_daily.MIGRATION_SQL
"""The per-day trade summary the report reads (store/trades_daily.py), back-filled from the trades already stored."""

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("m001_initial", M001_INITIAL),
    ("m002_risk_state", M002_RISK_STATE),
    ("m003_reconcile_audit", M003_RECONCILE_AUDIT),
    ("m004_trades_daily", M004_TRADES_DAILY),
)
"""(name, SQL) in the order they apply. Append only; never edit a released migration."""

PROJECTION_TABLES = ("orders", "fills", "positions", "trades", "accounts", "accounts_daily", "strategy_state", "blocks", "risk_state",
                     "trades_daily")
