-- The three questions researchers ask, for DuckDB (1.1 or later).
--
--   printf "SET VARIABLE tables = 'build/devset';\n.read docs/queries.sql\n" | duckdb
--   duckdb, then: .read docs/queries.sql          (reads extracted/, the default)
--   Python: set the variables with con.execute, then run the part before the first "-- name:" line, then each
--   query (tests/test_queries.py does exactly this)
--
-- Parameters are DuckDB variables. Set any of them before reading this file and it is kept; unset, each takes
-- the example value computed below from the data itself (the largest cohort, the person named in most articles).
--   tables     folder of the Parquet tables (default 'extracted')
--   programme  words of a programme name, matched case-insensitively inside `batches.programme_key`
--   batch      the batch (cohort) number
--   person     a person's name as in `people.name`
--
-- `end` is a reserved word in DuckDB SQL: the columns `roles.end` and `dates.end` must be written "end"
-- (double quotes), as every query here does. `start` is not reserved, but is quoted alike for symmetry.
-- Tests: tests/test_queries.py runs every query below against the dev set and checks it against pandas.

SET VARIABLE tables = coalesce(getvariable('tables'), 'extracted');
CREATE OR REPLACE TEMP VIEW articles AS SELECT * FROM read_parquet(getvariable('tables') || '/articles.parquet/*.parquet');
CREATE OR REPLACE TEMP VIEW people AS SELECT * FROM read_parquet(getvariable('tables') || '/people.parquet/*.parquet');
CREATE OR REPLACE TEMP VIEW roles AS SELECT * FROM read_parquet(getvariable('tables') || '/roles.parquet/*.parquet');
CREATE OR REPLACE TEMP VIEW countries AS SELECT * FROM read_parquet(getvariable('tables') || '/countries.parquet/*.parquet');
CREATE OR REPLACE TEMP VIEW batches AS SELECT * FROM read_parquet(getvariable('tables') || '/batches.parquet/*.parquet');
CREATE OR REPLACE TEMP VIEW person_links AS SELECT * FROM read_parquet(getvariable('tables') || '/person_links.parquet/*.parquet');

-- Example values: the largest cohort (most people; ties: programme, then batch) and the person named in most
-- articles (ties: name).
SET VARIABLE programme = coalesce(getvariable('programme'), (
    SELECT programme_key FROM batches WHERE person_id IS NOT NULL AND batch IS NOT NULL
    GROUP BY programme_key, batch ORDER BY count(DISTINCT person_id) DESC, programme_key, batch LIMIT 1));
SET VARIABLE batch = coalesce(getvariable('batch'), (
    SELECT batch FROM batches WHERE person_id IS NOT NULL AND programme_key = getvariable('programme')
    GROUP BY batch ORDER BY count(DISTINCT person_id) DESC, batch LIMIT 1));
SET VARIABLE person = coalesce(getvariable('person'), (
    SELECT name FROM people ORDER BY len(article_ids) DESC, name LIMIT 1));

-- name: cohort
-- Who was in batch N of programme P, and what do they do now: each member's role as of the latest article
-- that names them in a role not stated as former (ties: the later start, then the role id), or null.
WITH cohort AS (
    SELECT DISTINCT person_id FROM batches
    WHERE batch = getvariable('batch') AND person_id IS NOT NULL
      AND programme_key LIKE '%' || lower(getvariable('programme')) || '%'
), now_roles AS (
    SELECT r.person_id, r.title, r.org, r.status, r."start", r."end", a.published AS as_of,
           row_number() OVER (PARTITION BY r.person_id
                              ORDER BY a.published DESC NULLS LAST, r.start_date DESC NULLS LAST, r.role_id) AS latest
    FROM roles r JOIN articles a USING (article_id)
    WHERE r.status <> 'former'
)
SELECT p.name, n.title, n.org, n.status, n."start", n."end", n.as_of
FROM cohort c JOIN people p USING (person_id) LEFT JOIN now_roles n ON n.person_id = c.person_id AND n.latest = 1
ORDER BY p.name;

-- name: career
-- The career of person X: every role stated in any article about them, under any of the names the articles
-- print ("NGUYEN Van An", "Nguyen Van An", "Van An Nguyen": `person_links` says which are one person), in
-- the order of its start (undated roles by the date of the article stating them), with the article it comes
-- from and the name printed there. X is the person most of the articles naming `person` are about.
WITH chosen AS (
    SELECT l.canonical_id FROM person_links l JOIN people p USING (person_id)
    WHERE p.name = getvariable('person')
    GROUP BY l.canonical_id ORDER BY count(*) DESC, l.canonical_id LIMIT 1
)
SELECT r.title, r.org, r.status, r."start", r."end", a.published, a.title AS article, l.name AS printed_as
FROM roles r JOIN person_links l USING (person_id, article_id) JOIN articles a USING (article_id)
WHERE l.canonical_id = (SELECT canonical_id FROM chosen)
ORDER BY coalesce(r.start_date, a.published), a.published, r.role_id;

-- name: country_year
-- People per country per year: distinct people tied to a country by an article published that year.
SELECT c.country_iso3, c.country_name, year(a.published) AS year, count(DISTINCT c.person_id) AS people
FROM countries c JOIN articles a USING (article_id)
WHERE a.published IS NOT NULL
GROUP BY ALL
ORDER BY year, people DESC, c.country_iso3;
