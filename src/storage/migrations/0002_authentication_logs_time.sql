-- Pruning deletes the oldest rows of every user and address at once (regulation/log-pruner.ts): the two existing
-- indexes lead with username and remote_ip, so without this one each pruning pass would scan the whole table.
CREATE INDEX authentication_logs_time_idx ON authentication_logs (time);
