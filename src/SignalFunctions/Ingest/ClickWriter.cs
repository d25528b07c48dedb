using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Health;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

/// <summary>
/// Writes clicks under the click-events migration. The legacy side is the static columns
/// (platform, utm_source, qualified, score); the new side is the events chronology. One transaction
/// per request; the non-authoritative side under a savepoint, its failure recorded for repair.
/// </summary>
public sealed partial class ClickWriter(
    NpgsqlDataSource dataSource,
    StageRouter stages,
    WriteHealth health,
    IngestMeter meter,
    IOptions<ClickOptions> options,
    TimeProvider clock,
    ILogger<ClickWriter> logger)
{
    private const string Migration = KnownMigrations.ClickEvents;

    /// <summary>Records a click, or updates the one with this click_id.</summary>
    public Task<ClickReceipt> RecordAsync(ClickRecord click, CancellationToken ct) =>
        InTransactionAsync(click.ClickId, async (connection, tx, flag, stage) =>
        {
            var created = await connection.ExecuteScalarAsync<bool>(new CommandDefinition("""
                INSERT INTO cuft_click_tracking AS c (click_id, utm_medium, utm_campaign, utm_term, utm_content)
                VALUES (@ClickId, @UtmMedium, @UtmCampaign, @UtmTerm, @UtmContent)
                ON CONFLICT (click_id) DO UPDATE SET
                  utm_medium = coalesce(EXCLUDED.utm_medium, c.utm_medium),
                  utm_campaign = coalesce(EXCLUDED.utm_campaign, c.utm_campaign),
                  utm_term = coalesce(EXCLUDED.utm_term, c.utm_term),
                  utm_content = coalesce(EXCLUDED.utm_content, c.utm_content),
                  date_updated = now()
                RETURNING xmax = 0
                """, click, tx, cancellationToken: ct));
            var legacy = new SideWrite("set_columns", JsonSerializer.Serialize(new { platform = click.Platform, utm_source = click.UtmSource }));
            var @new = new SideWrite("init_events", "{}");
            await WriteSidesAsync(connection, tx, click.ClickId, flag, stage, legacy, @new, ct);
            return new ClickReceipt(click.ClickId, created, stage.Name());
        }, ct);

    /// <summary>
    /// Appends one event to a click's chronology, unless its id is there already (a retry): then
    /// neither side is written. Null when the click is unknown.
    /// </summary>
    public Task<ClickEventReceipt?> AddEventAsync(string clickId, ClickEvent clickEvent, CancellationToken ct) =>
        InTransactionAsync(clickId, async (connection, tx, flag, stage) =>
        {
            if (clickEvent.Id is { } id)
            {
                switch (await HasEventAsync(connection, tx, clickId, id, ct))
                {
                    case null:
                        return null;
                    case true:
                        return new ClickEventReceipt(clickId, clickEvent.EventType, stage.Name(), 0, Duplicate: true);
                }
            }
            if (!await LockClickAsync(connection, tx, clickId, ct))
            {
                return null;
            }
            var entry = Entry(clickEvent.EventType, clickEvent.Id, null);
            // Before the chronology existed, a lead was the qualified column and nothing else.
            var legacy = clickEvent.EventType == "generate_lead" ? new SideWrite("set_columns", """{"qualified":true}""") : null;
            var dropped = await WriteSidesAsync(connection, tx, clickId, flag, stage, legacy, new SideWrite("append_event", entry), ct);
            return new ClickEventReceipt(clickId, clickEvent.EventType, stage.Name(), dropped, Duplicate: false);
        }, ct);

    /// <summary>Applies a qualification update from the webhook; null when the click is unknown.</summary>
    public Task<ClickEventReceipt?> UpdateStatusAsync(ClickStatus status, CancellationToken ct) =>
        InTransactionAsync(status.ClickId, async (connection, tx, flag, stage) =>
        {
            if (!await LockClickAsync(connection, tx, status.ClickId, ct))
            {
                return null;
            }
            var legacy = new SideWrite("set_columns", JsonSerializer.Serialize(new { qualified = status.Qualified, score = status.Score }));
            var entry = Entry(status.EventType, null, (status.Qualified, status.Score));
            var dropped = await WriteSidesAsync(connection, tx, status.ClickId, flag, stage, legacy, new SideWrite("append_event", entry), ct);
            return new ClickEventReceipt(status.ClickId, status.EventType, stage.Name(), dropped, Duplicate: false);
        }, ct);

    private string Entry(string eventType, Guid? id, (bool Qualified, int Score)? status)
    {
        var entry = new JsonObject
        {
            ["event"] = eventType,
            ["timestamp"] = clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (id is { } given)
        {
            // PostgreSQL's text form of a uuid, so SQL can look the entry up by jsonb_build_object('id', uuid).
            entry["id"] = given.ToString("D");
        }
        if (status is { } s)
        {
            entry["qualified"] = s.Qualified;
            entry["score"] = s.Score;
        }
        return entry.ToJsonString();
    }

    private async Task<T> InTransactionAsync<T>(string clickId, Func<NpgsqlConnection, NpgsqlTransaction, StageFlag, Stage, Task<T>> work, CancellationToken ct)
    {
        var route = stages.For(Migration);
        var flag = route.Flag;
        var stage = await route.StageForAsync(clickId, ct);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var result = await work(connection, tx, flag, stage);
            await tx.CommitAsync(ct);
            return result;
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            throw new DatabaseUnavailableException("The database is unreachable.", ex);
        }
    }

    /// <summary>
    /// Whether the click's chronology holds an entry with this id; null when the click is unknown.
    /// Locks the click first, so concurrent retries of one event queue here and each later one
    /// finds the entry the first appended.
    /// </summary>
    private static Task<bool?> HasEventAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string clickId, Guid id, CancellationToken ct) =>
        connection.ExecuteScalarAsync<bool?>(new CommandDefinition("""
            SELECT coalesce(events @> jsonb_build_array(jsonb_build_object('id', @id)), false)
              FROM cuft_click_tracking WHERE click_id = @clickId
               FOR UPDATE
            """, new { clickId, id }, tx, cancellationToken: ct));

    private static async Task<bool> LockClickAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string clickId, CancellationToken ct) =>
        await connection.ExecuteScalarAsync<int?>(new CommandDefinition("""
            UPDATE cuft_click_tracking SET date_updated = now() WHERE click_id = @clickId RETURNING 1
            """, new { clickId }, tx, cancellationToken: ct)) is not null;

    private sealed record SideWrite(string Operation, string Payload);

    /// <summary>Runs each side's part in stage order; returns chronology entries dropped by the cap.</summary>
    private async Task<int> WriteSidesAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string clickId, StageFlag flag, Stage stage, SideWrite? legacy, SideWrite @new, CancellationToken ct)
    {
        var plan = stage.WritePlan();
        var dropped = 0;
        foreach (var side in new[] { plan.Authoritative, plan.Secondary })
        {
            if (side is not { } s || (s == Side.Legacy ? legacy : @new) is not { } write)
            {
                continue;
            }
            if (s == plan.Authoritative)
            {
                dropped += await ApplyAsync(connection, tx, clickId, s, write.Operation, write.Payload, options.Value.MaxEventsPerClick, ct);
                continue;
            }
            await tx.SaveAsync("secondary", ct);
            try
            {
                dropped += await ApplyAsync(connection, tx, clickId, s, write.Operation, write.Payload, options.Value.MaxEventsPerClick, ct);
                await tx.ReleaseAsync("secondary", ct);
                meter.SecondaryWrites(flag, 1, 0);
            }
            catch (PostgresException ex) when (!DatabaseExtensions.IsUnavailable(ex))
            {
                await tx.RollbackAsync("secondary", ct);
                var error = $"{ex.SqlState}: {ex.MessageText}";
                await RepairQueue.AddAsync(connection, tx, Migration, s, write.Operation, [clickId], [write.Payload], error);
                health.Failed(Migration, s, 1, error);
                meter.SecondaryWrites(flag, 1, 1);
                LogSecondaryFailed(s.Name(), clickId, ex.SqlState, ex.MessageText);
            }
        }
        return dropped;
    }

    /// <summary>One side's write. Also what the repair job replays, from the same operation and payload.</summary>
    internal static async Task<int> ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, string clickId, Side side, string operation, string payload, int maxEvents, CancellationToken ct)
    {
        switch (side, operation)
        {
            case (Side.Legacy, "set_columns"):
                await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE cuft_click_tracking c SET
                      platform   = CASE WHEN p ? 'platform'   AND p->>'platform'   IS NOT NULL THEN p->>'platform'   ELSE c.platform END,
                      utm_source = CASE WHEN p ? 'utm_source' AND p->>'utm_source' IS NOT NULL THEN p->>'utm_source' ELSE c.utm_source END,
                      qualified  = CASE WHEN p ? 'qualified' THEN (p->>'qualified')::boolean ELSE c.qualified END,
                      score      = CASE WHEN p ? 'score' THEN (p->>'score')::integer ELSE c.score END
                    FROM (SELECT @payload::jsonb AS p) AS input
                    WHERE c.click_id = @clickId
                    """, new { clickId, payload }, tx, cancellationToken: ct));
                return 0;
            case (Side.New, "init_events"):
                await connection.ExecuteAsync(new CommandDefinition(
                    "UPDATE cuft_click_tracking SET events = coalesce(events, '[]'::jsonb) WHERE click_id = @clickId",
                    new { clickId }, tx, cancellationToken: ct));
                return 0;
            case (Side.New, "append_event"):
                // Keep the newest maxEvents entries; count what falls off so nothing vanishes unnoticed.
                // An entry with an id is appended once: a repair replaying one a retry already wrote adds nothing.
                return await connection.ExecuteScalarAsync<int>(new CommandDefinition("""
                    WITH current AS (
                      SELECT coalesce(events, '[]'::jsonb) || jsonb_build_array(@payload::jsonb) AS events
                        FROM cuft_click_tracking
                       WHERE click_id = @clickId
                         AND NOT (@payload::jsonb ? 'id' AND coalesce(events @> jsonb_build_array(jsonb_build_object('id', @payload::jsonb -> 'id')), false))
                    ), capped AS (
                      SELECT (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb)
                                FROM jsonb_array_elements(current.events) WITH ORDINALITY AS a(e, n)
                               WHERE n > jsonb_array_length(current.events) - @maxEvents) AS events,
                             greatest(jsonb_array_length(current.events) - @maxEvents, 0) AS dropped
                        FROM current
                    )
                    UPDATE cuft_click_tracking c
                       SET events = capped.events, events_dropped = c.events_dropped + capped.dropped
                      FROM capped
                     WHERE c.click_id = @clickId
                    RETURNING capped.dropped
                    """, new { clickId, payload, maxEvents }, tx, cancellationToken: ct));
            default:
                throw new InvalidOperationException($"No {side.Name()} click operation '{operation}'.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Secondary click write to the {Side} side failed for click {ClickId} ({SqlState}: {Error}); repair entry recorded")]
    private partial void LogSecondaryFailed(string side, string clickId, string sqlState, string error);
}
