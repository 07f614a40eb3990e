-- +goose Up
-- A vocabulary for the typo pass: a typo was matched by pg_trgm (phrase
-- <% doc), read from GIN indexes of trigrams, the country's
-- (supply_items_trgm) or the city's (supply_city_trigrams, 00003); a typo
-- in a city read every row of the city its trigram runs yielded, a list
-- that grows with the country (p50 91 ms, p99 599 ms at 2·10^7 items, the
-- slowest class), and the city-trigram index took 95 minutes to build.
-- This release does what Lucene and Bleve do instead: it expands a
-- mistyped term to the indexed words one edit away (Levenshtein distance
-- 1) and searches those words as it searches any other, through the city
-- and rank-tier keys of 00003 and 00005, so a typo costs about what the
-- words it stands for cost.
--
-- supply_words holds every word of an item's doc, supply_word_variants
-- each word and each of its one-letter deletions (SymSpell): two words
-- one edit apart share a variant, so a term's variants, looked up
-- exactly, yield every word one edit away (and a few at two, which the
-- query filters out). Words are never deleted: a word no item holds any
-- more only expands a typo to a phrase that matches nothing. A word is a
-- run of ASCII letters and digits and characters outside ASCII (whatever
-- the database's locale thinks of them), at most 32 characters: what the
-- release splits a doc into too (docWords).
--
-- Additive: the previous release reads neither table and does not fill
-- them; an instance of it pushing beside this release leaves its new
-- words out of the vocabulary (a typo of them then finds nothing) until a
-- push of this release records them.
CREATE TABLE supply_words (
    word text COLLATE "C" PRIMARY KEY
);

CREATE TABLE supply_word_variants (
    variant text COLLATE "C" NOT NULL,
    word    text COLLATE "C" NOT NULL,
    PRIMARY KEY (variant, word)
);

-- A doc's words, in order (docWords).
-- +goose StatementBegin
CREATE FUNCTION supply_doc_words(doc text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT w FROM regexp_split_to_table(doc, '[^a-z0-9\u0080-\U0010ffff]+') AS w WHERE w <> '' AND length(w) <= 32;
END;
-- +goose StatementEnd

-- A word and each of its one-letter deletions, distinct (variants).
-- +goose StatementBegin
CREATE FUNCTION supply_variants(word text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT word UNION SELECT overlay(word PLACING '' FROM i FOR 1) FROM generate_series(1, length(word)) AS i;
END;
-- +goose StatementEnd

INSERT INTO supply_words SELECT DISTINCT w FROM supply_items, supply_doc_words(doc) AS w WHERE NOT deleted;
INSERT INTO supply_word_variants SELECT v, word FROM supply_words, supply_variants(word) AS v;

-- +goose Down
DROP FUNCTION supply_variants(text);
DROP FUNCTION supply_doc_words(text);
DROP TABLE supply_word_variants;
DROP TABLE supply_words;
