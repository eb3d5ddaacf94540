-- The as-of date every mart is computed for: the latest complete drop loaded (or the var
-- as_of_date). One row; the publication checks read it for freshness.
select cast({{ as_of_date() }} as date) as as_of_date
