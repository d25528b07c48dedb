using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace SignalFunctions.Bench;

/// <summary>
/// Limit (c): the same rows as the HTTP scenarios, loaded with binary COPY, the fastest way into
/// PostgreSQL. Each transaction copies a chunk of events into the legacy table, and for
/// dual_write the same events into signal_events too, as the app's dual write does.
/// </summary>
public static class CopyLoad
{
    public const int EventsPerTransaction = 5_000;

    private static readonly string[] TargetTypes = ["article", "tutor", "listing", "booking", "referral", "wiselist_item"];
    private static readonly string[] EventTypes = ["impression", "impression", "impression", "click", "save", "refer", "convert"];
    private static readonly string[] Components = ["listing_grid", "tutor_embed", "tutor_carousel", "cta_button", "inline_link", "floating_save", "article_header"];

    public sealed record Result(long Events, double ElapsedS);

    public static async Task<Result> RunAsync(NpgsqlDataSource dataSource, bool dual, int seconds, int streams)
    {
        var contents = Enumerable.Range(0, 50).Select(_ => Guid.NewGuid()).ToArray();
        var targets = Enumerable.Range(0, 500).Select(_ => Guid.NewGuid()).ToArray();
        var watch = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        var counts = await Task.WhenAll(Enumerable.Range(0, streams).Select(stream => Task.Run(async () =>
        {
            long loaded = 0;
            var journeyBase = Guid.NewGuid();
            while (watch.Elapsed < deadline)
            {
                var now = DateTime.UtcNow;
                var events = new Event[EventsPerTransaction];
                for (var i = 0; i < events.Length; i++)
                {
                    var n = loaded + i;
                    // A journey (signal_id) of about eight events, as in bench/ingest.lua.
                    var signalId = Mix(journeyBase, n / 8);
                    events[i] = new Event(
                        Guid.NewGuid(), signalId, contents[n % 50], TargetTypes[n % 6], targets[n % 500], EventTypes[n % 7],
                        Components[n % 7], $"bench-{stream}-{n / 8}", $"/blog/post-{n % 50}", now);
                }
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var tx = await connection.BeginTransactionAsync();
                await CopyLegacyAsync(connection, events);
                if (dual)
                {
                    await CopyNewAsync(connection, events);
                }
                await tx.CommitAsync();
                loaded += events.Length;
            }
            return loaded;
        })));
        return new Result(counts.Sum(), watch.Elapsed.TotalSeconds);
    }

    private static Guid Mix(Guid journeyBase, long n)
    {
        Span<byte> bytes = stackalloc byte[16];
        journeyBase.TryWriteBytes(bytes);
        BitConverter.TryWriteBytes(bytes[8..], n);
        return new Guid(bytes);
    }

    private sealed record Event(
        Guid Id, Guid SignalId, Guid ContentId, string TargetType, Guid TargetId, string EventType, string SourceComponent,
        string SessionId, string Page, DateTime CreatedAt);

    private static async Task CopyLegacyAsync(NpgsqlConnection connection, Event[] events)
    {
        await using var importer = await connection.BeginBinaryImportAsync("""
            COPY blog_attribution_events (id, blog_article_id, user_id, session_id, target_type, target_id, event_type,
                                          source_component, metadata, created_at) FROM STDIN (FORMAT BINARY)
            """);
        foreach (var e in events)
        {
            await importer.StartRowAsync();
            await importer.WriteAsync(e.Id, NpgsqlDbType.Uuid);
            await importer.WriteAsync(e.ContentId, NpgsqlDbType.Uuid);
            await WriteEventColumnsAsync(importer, e);
            // The legacy row carries the journey in metadata, exactly as the app writes it.
            await importer.WriteAsync($$"""{"page": "{{e.Page}}", "ref": "bench", "signal_id": "{{e.SignalId}}"}""", NpgsqlDbType.Jsonb);
            await importer.WriteAsync(e.CreatedAt, NpgsqlDbType.TimestampTz);
        }
        await importer.CompleteAsync();
    }

    private static async Task CopyNewAsync(NpgsqlConnection connection, Event[] events)
    {
        await using var importer = await connection.BeginBinaryImportAsync("""
            COPY signal_events (id, signal_id, content_id, content_type, user_id, session_id, target_type, target_id,
                                event_type, source_component, metadata, created_at) FROM STDIN (FORMAT BINARY)
            """);
        foreach (var e in events)
        {
            await importer.StartRowAsync();
            await importer.WriteAsync(e.Id, NpgsqlDbType.Uuid);
            await importer.WriteAsync(e.SignalId, NpgsqlDbType.Uuid);
            await importer.WriteAsync(e.ContentId, NpgsqlDbType.Uuid);
            await importer.WriteAsync("article", NpgsqlDbType.Text);
            await WriteEventColumnsAsync(importer, e);
            await importer.WriteAsync($$"""{"page": "{{e.Page}}", "ref": "bench"}""", NpgsqlDbType.Jsonb);
            await importer.WriteAsync(e.CreatedAt, NpgsqlDbType.TimestampTz);
        }
        await importer.CompleteAsync();
    }

    /// <summary>The columns both tables share, in the same order: user_id … source_component.</summary>
    private static async Task WriteEventColumnsAsync(NpgsqlBinaryImporter importer, Event e)
    {
        await importer.WriteNullAsync();
        await importer.WriteAsync(e.SessionId, NpgsqlDbType.Text);
        await importer.WriteAsync(e.TargetType, NpgsqlDbType.Text);
        await importer.WriteAsync(e.TargetId, NpgsqlDbType.Uuid);
        await importer.WriteAsync(e.EventType, NpgsqlDbType.Text);
        await importer.WriteAsync(e.SourceComponent, NpgsqlDbType.Text);
    }
}
