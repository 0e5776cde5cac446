"""The service database, one repository module per domain, and its migrations.

`engine` connects (SQLite file or PostgreSQL by URL); `tables` describes the current schema for queries;
`migrations` brings any older database up to it with frozen DDL; `base` holds what every repository
shares. The repositories: `clusters` (snapshots and revisions), `threads` (chat threads), `slack_events`
(Slack deliveries), `analyses` (stored results), `tokens` (hashed API tokens), `secrets` (server keys),
`eval_runs` (the eval suite's runs, responses and scores). `service.store.Store` puts them together.
"""
