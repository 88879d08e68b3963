-- Continuous aggregates refresh incrementally through their policies (reconciled from the environment
-- file); they need no index for it. This version exists so both backends share version numbers.
SELECT 1;
