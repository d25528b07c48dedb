-- Demo data: the legacy tables of brand-metrics, in the monolith's shape. @brands brands (a
-- customer per three), 3 to 6 competitors each, 20 generated queries each; @results collector
-- results from four collectors over the last @days days; per result one brand row (sentiment on
-- about 70 %) and a row for each competitor the answer mentioned (about two in three), repeating
-- the brand's numbers as the monolith does. About 4 extracted_positions rows per result.
-- Deterministic for a @seed except ids; a second run adds new brands. pg_temp.demo_u is DemoData's.
CREATE TEMP TABLE demo_customers ON COMMIT DROP AS
SELECT i AS n, gen_random_uuid() AS id FROM generate_series(0, greatest(1, @brands / 3) - 1) i;
INSERT INTO customers (id, name) SELECT id, 'Demo customer ' || @run || '-' || n FROM demo_customers;

CREATE TEMP TABLE demo_brands ON COMMIT DROP AS
SELECT i AS n, gen_random_uuid() AS id, c.id AS customer_id
  FROM generate_series(0, @brands - 1) i
  JOIN demo_customers c ON c.n = i % greatest(1, @brands / 3);
INSERT INTO brands (id, customer_id, name) SELECT id, customer_id, 'Demo brand ' || @run || '-' || n FROM demo_brands;

INSERT INTO brand_competitors (brand_id, competitor_name)
SELECT b.id, 'Competitor ' || chr(65 + k) FROM demo_brands b CROSS JOIN generate_series(0, 5) k WHERE k < 3 + b.n % 4;

CREATE TEMP TABLE demo_queries ON COMMIT DROP AS
SELECT b.n * 20 + q AS n, b.n AS brand_n, b.id AS brand_id, b.customer_id, gen_random_uuid() AS id,
       (ARRAY['pricing', 'reviews', 'alternatives', 'integrations', 'support'])[1 + q % 5] AS topic
  FROM demo_brands b CROSS JOIN generate_series(0, 19) q;
INSERT INTO generated_queries (id, brand_id, query_text, topic)
SELECT id, brand_id, 'Which ' || topic || ' option is best? (' || n || ')', topic FROM demo_queries;

CREATE TEMP TABLE demo_results ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('collector_results', 'id')) AS id, i, q.brand_n, q.brand_id, q.customer_id,
       q.id AS query_id, q.topic,
       (ARRAY['chatgpt', 'perplexity', 'gemini', 'claude'])[1 + (pg_temp.demo_u(i, @seed + 1) * 4)::int % 4] AS collector_type,
       now() - make_interval(secs => pg_temp.demo_u(i, @seed + 2) * @days * 86400) AS processed_at
  FROM generate_series(0, @results - 1) i
  JOIN demo_queries q ON q.n = (pg_temp.demo_u(i, @seed) * @brands * 20)::bigint % (@brands * 20);
INSERT INTO collector_results (id, query_id, collector_type, raw_answer, created_at)
SELECT id, query_id, collector_type, 'Answer ' || i || ' about ' || topic, processed_at FROM demo_results;

INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, topic,
       visibility_index, share_of_answers_brand, has_brand_presence, brand_first_position, brand_positions,
       total_brand_mentions, total_word_count, sentiment_label, sentiment_score, sentiment_positive_sentences,
       sentiment_negative_sentences, processed_at, created_at)
SELECT r.id, r.brand_id, r.customer_id, r.query_id, r.collector_type, r.topic,
       round((pg_temp.demo_u(r.i, @seed + 3) * 100)::numeric, 2), round((pg_temp.demo_u(r.i, @seed + 4) * 100)::numeric, 2),
       p.present, CASE WHEN p.present THEN p.first END, CASE WHEN p.present THEN ARRAY[p.first, p.first + 3] END,
       CASE WHEN p.present THEN 1 + (pg_temp.demo_u(r.i, @seed + 6) * 4)::int ELSE 0 END,
       200 + (pg_temp.demo_u(r.i, @seed + 7) * 800)::int,
       CASE WHEN s.present THEN (ARRAY['POSITIVE', 'NEUTRAL', 'NEGATIVE'])[1 + (pg_temp.demo_u(r.i, @seed + 9) * 3)::int % 3] END,
       CASE WHEN s.present THEN round((pg_temp.demo_u(r.i, @seed + 10) * 2 - 1)::numeric, 2) END,
       CASE WHEN s.present AND r.i % 3 <> 0 THEN jsonb_build_array('Praised for ' || r.topic) END,
       CASE WHEN s.present AND r.i % 4 = 0 THEN jsonb_build_array('Criticised for ' || r.topic) END,
       r.processed_at, r.processed_at + interval '2 seconds'
  FROM demo_results r
 CROSS JOIN LATERAL (SELECT pg_temp.demo_u(r.i, @seed + 5) < 0.7 AS present, 1 + (pg_temp.demo_u(r.i, @seed + 11) * 10)::int AS first) p
 CROSS JOIN LATERAL (SELECT pg_temp.demo_u(r.i, @seed + 8) < 0.7 AS present) s;

INSERT INTO extracted_positions (collector_result_id, brand_id, customer_id, query_id, collector_type, topic, competitor_name,
       visibility_index, share_of_answers_brand, has_brand_presence, brand_first_position, brand_positions,
       total_brand_mentions, total_word_count, sentiment_label, sentiment_score, sentiment_positive_sentences,
       sentiment_negative_sentences, visibility_index_competitor, share_of_answers_competitor, competitor_positions,
       competitor_mentions, sentiment_label_competitor, sentiment_score_competitor,
       sentiment_positive_sentences_competitor, sentiment_negative_sentences_competitor, processed_at, created_at)
SELECT b.collector_result_id, b.brand_id, b.customer_id, b.query_id, b.collector_type, b.topic, 'Competitor ' || chr(65 + k),
       b.visibility_index, b.share_of_answers_brand, b.has_brand_presence, b.brand_first_position, b.brand_positions,
       b.total_brand_mentions, b.total_word_count, b.sentiment_label, b.sentiment_score, b.sentiment_positive_sentences,
       b.sentiment_negative_sentences,
       round((pg_temp.demo_u(r.i * 8 + k, @seed + 21) * 100)::numeric, 2), round((pg_temp.demo_u(r.i * 8 + k, @seed + 22) * 100)::numeric, 2),
       ARRAY[1 + k, 4 + k], 1 + (pg_temp.demo_u(r.i * 8 + k, @seed + 23) * 3)::int,
       CASE WHEN cs.present THEN (ARRAY['POSITIVE', 'NEUTRAL', 'NEGATIVE'])[1 + (pg_temp.demo_u(r.i * 8 + k, @seed + 25) * 3)::int % 3] END,
       CASE WHEN cs.present THEN round((pg_temp.demo_u(r.i * 8 + k, @seed + 26) * 2 - 1)::numeric, 2) END,
       CASE WHEN cs.present AND k % 2 = 0 THEN jsonb_build_array('Competitor ' || chr(65 + k) || ' praised') END,
       NULL,
       b.processed_at, b.created_at
  FROM demo_results r
  JOIN extracted_positions b ON b.collector_result_id = r.id AND b.competitor_name IS NULL
 CROSS JOIN generate_series(0, 5) k
 CROSS JOIN LATERAL (SELECT pg_temp.demo_u(r.i * 8 + k, @seed + 24) < 0.6 AS present) cs
 WHERE k < 3 + r.brand_n % 4 AND pg_temp.demo_u(r.i * 8 + k, @seed + 20) < 0.67;

SELECT (SELECT count(*) FROM demo_brands) AS Brands, (SELECT count(*) FROM demo_results) AS Results,
       (SELECT count(*) FROM extracted_positions p JOIN demo_results r ON r.id = p.collector_result_id) AS Positions;
