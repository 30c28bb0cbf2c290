"""worker/ — schedules, runs, the main job, ops commands, health and metrics.

    Worker(config, store).start() / .stop()     the main job (`run.py run`, see service.py)
    SourceRunner(config, store).run(spec, ...)  one source now (scheduled tick or `run.py run-now`)
    configured_sources(config), find_source()   portal:NAME, mail:NAME, import:NAME, export:NAME

Modules: sources (what runs), triggers (cron / interval, jitter, active hours), scheduler
(APScheduler, job store in the store's database), jobs (what persisted jobs call), runner (one
run of a source), bots_loop (the shared browser), watchers (IMAP IDLE mailboxes), locks (one run
of a source at a time, across processes), control (pause, blocked accounts), sandbox_env (the
embedded default's portal, mailbox and SMTP sink), health (/health), metrics (/metrics),
doctor, history (`runs`), status (`sources`), banner, cli.
"""
