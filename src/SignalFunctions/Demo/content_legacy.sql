-- Demo data: the legacy tables of content-queue, as the bot writes them. @rows decisions an hour
-- apart; two in three posted, and of those every other one measured (retweets not scraped yet on a
-- quarter). Ids are md5 of @run and the number (the tests pass an empty @run).
INSERT INTO content_metadata (decision_id, content, decision_type, status, generator_name, quality_score, scheduled_at, created_at, updated_at)
SELECT md5(@run || 'decision' || i)::uuid, 'Post number ' || i, (ARRAY['single','thread','reply'])[1 + i % 3],
       CASE WHEN i % 3 <> 0 THEN 'posted' ELSE 'queued' END, 'generator-' || (i % 5), (i % 1000) / 1000.0,
       now() - make_interval(hours => i), now() - make_interval(hours => i + 1), now() - make_interval(hours => i)
  FROM generate_series(1, @rows) AS i;
INSERT INTO posted_decisions (decision_id, tweet_id, content, posted_at)
SELECT md5(@run || 'decision' || i)::uuid, (1700000000000000000 + i)::text, 'Post number ' || i, now() - make_interval(hours => i)
  FROM generate_series(1, @rows) AS i WHERE i % 3 <> 0;
INSERT INTO outcomes (decision_id, tweet_id, likes, retweets, replies, impressions, collected_at)
SELECT md5(@run || 'decision' || i)::uuid, (1700000000000000000 + i)::text, i % 50, CASE WHEN i % 4 <> 1 THEN i % 7 END, i % 3, 100 + i,
       now() - make_interval(mins => i)
  FROM generate_series(1, @rows) AS i WHERE i % 3 <> 0 AND i % 2 = 0;
SELECT count(*) FROM content_metadata WHERE decision_id IN (SELECT md5(@run || 'decision' || i)::uuid FROM generate_series(1, @rows) AS i);
