"""api room: the read-only query layer over the store.

app.py          create_app(store, options) → FastAPI; build_server / serve → uvicorn.Server
queries.py      plain query functions over a Session (status, lists, B/Ls, orders, events, runs, alerts)
hotspots.py     hotspots(session, since=, group_by=) — alerts counted by terminal, carrier, route, week
dcsa.py         our events in DCSA T&T 2.2 form, and the DCSA filters (shared with sync/webhooks.py)
dcsa_query.py   the DCSA filters as SQL; /v2 event pages
subscriptions.py, routes_*.py, board.py, ask.py, auth.py, problems.py, paging.py, responses.py, db.py
cli.py          run.py status | events | ask | api-key
"""
