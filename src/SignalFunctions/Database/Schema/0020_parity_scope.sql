-- What a parity report compared: NULL for the whole table, else the name of the one partition of the
-- new side whose time range both sides were cut to. Only whole-table reports judge a stage gate, the
-- cut-over's archive or the guard: a clean partition says nothing of the others.
ALTER TABLE parity_reports ADD COLUMN scope text NULL;
