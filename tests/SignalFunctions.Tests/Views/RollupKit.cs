using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Tests.Infrastructure;
using SignalFunctions.Views;

namespace SignalFunctions.Tests.Views;

public sealed record TestEvent(Guid Id, Guid SignalId, Guid ContentId, string EventType, DateTime CreatedAt);

/// <summary>Events written straight into signal_events, the rollup refreshed in-process, and the rollup's definition written the obvious way.</summary>
public static class RollupKit
{
    public static readonly string[] EventTypes = ["impression", "click", "save", "refer", "convert"];

    /// <summary>A UTC day well inside the window ingest would accept, so every test day is "recent".</summary>
    public static readonly DateOnly FirstDay = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-20);

    public static DailyRollup Rollup(NpgsqlDataSource dataSource, ViewOptions? options = null) =>
        new(dataSource, Options.Create(options ?? new ViewOptions()), NullLogger<DailyRollup>.Instance);

    public static DateTime At(DateOnly day, double hour) => day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddHours(hour);

    public static TestEvent Event(Guid signal, Guid content, string type, DateTime at) => new(Guid.NewGuid(), signal, content, type, at);

    public static async Task InsertAsync(NpgsqlConnection connection, IReadOnlyCollection<TestEvent> events, NpgsqlTransaction? tx = null)
    {
        if (events.Count == 0)
        {
            return;
        }
        await connection.ExecuteAsync("""
            INSERT INTO signal_events (id, signal_id, content_id, target_type, target_id, event_type, source_component, created_at)
            SELECT id, signal_id, content_id, 'tutor', gen_random_uuid(), event_type, 'tutor_embed', created_at
              FROM unnest(@ids, @signals, @contents, @types, @times) AS t (id, signal_id, content_id, event_type, created_at)
            """, new
        {
            ids = events.Select(e => e.Id).ToArray(),
            signals = events.Select(e => e.SignalId).ToArray(),
            contents = events.Select(e => e.ContentId).ToArray(),
            types = events.Select(e => e.EventType).ToArray(),
            times = events.Select(e => e.CreatedAt).ToArray(),
        }, tx);
    }

    public static async Task InsertAsync(TestDatabase db, IReadOnlyCollection<TestEvent> events)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        await InsertAsync(connection, events);
    }

    /// <summary>
    /// The rollup as its definition reads, with count(DISTINCT …) and a join, nothing like the
    /// refresh's hash-aggregate SQL: the two agreeing is the check.
    /// </summary>
    public const string ReferenceSql = """
        WITH e AS (
          SELECT content_id, (created_at AT TIME ZONE 'UTC')::date AS day, event_type, signal_id FROM signal_events
        ), converted AS (
          SELECT DISTINCT content_id, day, signal_id FROM e WHERE event_type = 'convert'
        ), flagged AS (
          SELECT e.*, c.signal_id IS NOT NULL AS converted FROM e LEFT JOIN converted c USING (content_id, day, signal_id)
        )
        SELECT content_id, day, event_type, count(*) AS events, count(DISTINCT signal_id) AS signals,
               count(DISTINCT signal_id) FILTER (WHERE converted) AS conversions
          FROM flagged GROUP BY content_id, day, event_type
        UNION ALL
        SELECT content_id, day, 'all', count(*), count(DISTINCT signal_id), count(DISTINCT signal_id) FILTER (WHERE converted)
          FROM flagged GROUP BY content_id, day
        """;

    private const string RollupSql = "SELECT content_id, day, event_type, events, signals, conversions FROM signal_daily_rollup";

    /// <summary>Rows in one and not the other, both ways, as text for an assertion message (empty when equal).</summary>
    public static async Task<IReadOnlyList<string>> DifferencesFromReferenceAsync(TestDatabase db) =>
        await db.QueryAsync<string>($"""
            SELECT side || ' ' || row_to_json(x)::text FROM (
              (SELECT 'rollup-only' AS side, * FROM ({RollupSql}) r EXCEPT SELECT 'rollup-only', * FROM ({ReferenceSql}) f)
              UNION ALL
              (SELECT 'missing', * FROM ({ReferenceSql}) f EXCEPT SELECT 'missing', * FROM ({RollupSql}) r)
            ) x
            ORDER BY 1
            LIMIT 20
            """);

    public static async Task AssertEqualsReferenceAsync(TestDatabase db, string when)
    {
        var differences = await DifferencesFromReferenceAsync(db);
        Assert.True(differences.Count == 0, $"{when}: the rollup differs from its definition:\n{string.Join('\n', differences)}");
        Assert.True(await db.ScalarAsync<long>("SELECT count(*) FROM signal_daily_rollup") > 0, $"{when}: the rollup is empty");
    }

    public sealed record Row(Guid ContentId, DateOnly Day, string EventType, long Events, long Signals, long Conversions);

    public static Task<IReadOnlyList<Row>> RowsAsync(TestDatabase db, Guid content) => db.QueryAsync<Row>(
        "SELECT content_id AS ContentId, day, event_type AS EventType, events, signals, conversions FROM signal_daily_rollup WHERE content_id = @content ORDER BY day, event_type",
        new { content });
}
