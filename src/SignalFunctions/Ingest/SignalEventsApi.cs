using System.Diagnostics;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Flags;
using SignalFunctions.Guard;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

/// <summary>Signal events in (new and legacy payloads) and a journey's path out.</summary>
public static class SignalEventsApi
{
    public static Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>> PostSignalEvents(
        HttpContext context, SignalEventWriter writer, IngestMeter meter, IOptions<IngestOptions> options, TimeProvider clock, CancellationToken ct) =>
        MeteredAsync(meter, () => IngestAsync(context, PayloadShape.Signal, writer, options.Value, clock, ct));

    public static Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>> PostLegacyAttributionEvents(
        HttpContext context, SignalEventWriter writer, IngestMeter meter, IOptions<IngestOptions> options, TimeProvider clock, CancellationToken ct) =>
        MeteredAsync(meter, () => IngestAsync(context, PayloadShape.LegacyAttribution, writer, options.Value, clock, ct));

    /// <summary>Each answer and its latency count toward the guard's judgement of the signal-events stage.</summary>
    private static async Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>> MeteredAsync(
        IngestMeter meter, Func<Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>>> ingest)
    {
        var started = Stopwatch.GetTimestamp();
        var result = await ingest();
        meter.Answered(KnownMigrations.SignalEvents, result.Result, started);
        return result;
    }

    private static async Task<Results<Accepted<IngestReceipt>, ValidationProblem, ProblemHttpResult>> IngestAsync(
        HttpContext context, PayloadShape shape, SignalEventWriter writer, IngestOptions options, TimeProvider clock, CancellationToken ct)
    {
        var (body, problem) = await IngestBody.ReadAsync(context.Request, options.MaxBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }

        var parsed = SignalEventParser.Parse(body!.Bytes, shape, clock.GetUtcNow());
        if (!parsed.IsValid)
        {
            return Problems.Validation(parsed.Errors.ByField);
        }

        try
        {
            var receipt = await writer.WriteAsync(parsed.Events, ct);
            return TypedResults.Accepted((string?)null, receipt);
        }
        catch (DatabaseUnavailableException ex)
        {
            return Problems.Unavailable(context, options.RetryAfterSeconds, $"{ex.Message} Retry after {options.RetryAfterSeconds} s.");
        }
        catch (FlagsUnavailableException ex)
        {
            return Problems.Unavailable(context, options.RetryAfterSeconds, ex.Message);
        }
        catch (PostgresException ex)
        {
            return Problems.WriteFailed($"{ex.SqlState}: {ex.MessageText}");
        }
    }

    public sealed record PathEvent(
        Guid Id, Guid ContentId, string ContentType, string TargetType, Guid TargetId, string EventType,
        string SourceComponent, string? SessionId, Guid? UserId, System.Text.Json.Nodes.JsonObject Metadata, DateTime CreatedAt);

    public sealed record SignalPath(Guid SignalId, string ReadFrom, string Stage, IReadOnlyList<PathEvent> Events);

    public const int MaxPathEvents = 1000;

    /// <summary>The Signal Path Viewer's data: one journey's events in time order, from the side its stage reads.</summary>
    public static async Task<Results<Ok<SignalPath>, ProblemHttpResult>> GetPath(
        string signalId, HttpContext context, NpgsqlDataSource dataSource, StageRouter stages, IOptions<IngestOptions> options, CancellationToken ct)
    {
        // Checked here rather than by a route constraint: the Functions host forwards any segment.
        if (!Guid.TryParseExact(signalId, "D", out var journey))
        {
            return Problems.BadRequest("signal_id", "must be a UUID such as 0b6f2a4e-5c1d-4f0e-9a57-3d9c8e7b1a20");
        }
        Stage stage;
        try
        {
            stage = await stages.For(KnownMigrations.SignalEvents).StageForAsync(journey, ct);
        }
        catch (FlagsUnavailableException ex)
        {
            return Problems.Unavailable(context, options.Value.RetryAfterSeconds, ex.Message);
        }
        var side = stage.ReadSide();
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var rows = await connection.QueryAsync<PathRow>(new CommandDefinition(
                side == Side.New ? PathFromNewSql : PathFromLegacySql,
                new { signalId = journey, signalText = journey.ToString(), limit = MaxPathEvents }, cancellationToken: ct));
            var events = rows.Select(r => new PathEvent(
                r.Id, r.ContentId, r.ContentType, r.TargetType, r.TargetId, r.EventType, r.SourceComponent, r.SessionId,
                r.UserId, System.Text.Json.Nodes.JsonNode.Parse(r.Metadata)!.AsObject(), DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc))).ToList();
            return TypedResults.Ok(new SignalPath(journey, side.Name(), stage.Name(), events));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            return Problems.Unavailable(context, options.Value.RetryAfterSeconds, "The database is unreachable.");
        }
    }

    private sealed record PathRow(
        Guid Id, Guid ContentId, string ContentType, string TargetType, Guid TargetId, string EventType,
        string SourceComponent, string? SessionId, Guid? UserId, string Metadata, DateTime CreatedAt);

    private const string PathFromNewSql = """
        SELECT id, content_id AS ContentId, content_type AS ContentType, target_type AS TargetType,
               target_id AS TargetId, event_type AS EventType, source_component AS SourceComponent,
               session_id AS SessionId, user_id AS UserId, metadata::text AS Metadata, created_at AS CreatedAt
          FROM signal_events
         WHERE signal_id = @signalId
         ORDER BY created_at, id
         LIMIT @limit
        """;

    // Events with no legacy home (not an article, or the 'distribution' component) live only in
    // signal_events whatever the stage: the journey includes them.
    private const string PathFromLegacySql = """
        SELECT * FROM (
          SELECT id, blog_article_id AS ContentId, 'article' AS ContentType, target_type AS TargetType,
                 target_id AS TargetId, event_type AS EventType, source_component AS SourceComponent,
                 session_id AS SessionId, user_id AS UserId, (metadata - 'signal_id')::text AS Metadata,
                 created_at AS CreatedAt
            FROM blog_attribution_events
           WHERE metadata ->> 'signal_id' = @signalText
          UNION ALL
          SELECT id, content_id, content_type, target_type, target_id, event_type, source_component,
                 session_id, user_id, metadata::text, created_at
            FROM signal_events
           WHERE signal_id = @signalId AND (content_type <> 'article' OR source_component = 'distribution')
        ) journey
        ORDER BY CreatedAt, id
        LIMIT @limit
        """;
}
