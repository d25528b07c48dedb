using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using SignalFunctions.Database;
using SignalFunctions.Ingest;

namespace SignalFunctions.Clicks;

/// <summary>
/// GET /api/clicks (the console's click table, a page at a time) and GET /api/clicks/export.csv
/// (every click the same filters select): see <see cref="ClickQuery"/> for the parameters.
/// </summary>
public static class ClickReadsApi
{
    /// <param name="LastActivity">When its newest event happened; date_updated when it has none.</param>
    /// <param name="EventsDropped">Oldest entries the chronology's cap let go.</param>
    /// <param name="Events">The chronology as recorded (event, timestamp, and a status update's qualified and score); empty when it has none yet.</param>
    public sealed record Click(
        string ClickId, string? UtmMedium, string? UtmCampaign, string? UtmTerm, string? UtmContent, bool Qualified, int Score,
        DateTime DateCreated, DateTime DateUpdated, DateTime LastActivity, int EventsDropped, JsonElement Events);

    /// <param name="Next">The cursor of the next page (pass it as <c>after</c>); null on the last page.</param>
    public sealed record ClickPage(IReadOnlyList<Click> Clicks, string? Next);

    private static readonly JsonElement NoEvents = JsonSerializer.Deserialize<JsonElement>("[]");

    public static async Task<Results<Ok<ClickPage>, ValidationProblem, ProblemHttpResult>> GetPage(
        HttpContext context, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (ClickQuery.Parse(context.Request.Query, paged: true, errors) is not { } query)
        {
            return Invalid(errors);
        }
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            var (rows, more) = await ClickReads.PageAsync(connection, query, ct);
            var next = more ? new ClickCursor(rows[^1].LastActivity, rows[^1].Id, query.Ascending).Encode() : null;
            return TypedResults.Ok(new ClickPage([.. rows.Select(r => new Click(
                r.ClickId, r.UtmMedium, r.UtmCampaign, r.UtmTerm, r.UtmContent, r.Qualified, r.Score, r.DateCreated, r.DateUpdated,
                r.LastActivity, r.EventsDropped, r.Events is null ? NoEvents : JsonSerializer.Deserialize<JsonElement>(r.Events)))], next));
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            return Problems.Unavailable(context, "The database is unreachable.");
        }
    }

    /// <summary>
    /// The CSV (<see cref="ClickCsv"/>), streamed from the database to the response row by row. The
    /// query runs before the answer starts, so a database that is down is still a 503; a failure
    /// after that breaks the connection off rather than ending the file as if complete.
    /// </summary>
    public static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> Export(
        HttpContext context, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (ClickQuery.Parse(context.Request.Query, paged: false, errors) is not { } query)
        {
            return Invalid(errors);
        }
        ClickExport export;
        try
        {
            export = await ClickReads.ExportAsync(dataSource, query, ct);
        }
        catch (Exception ex) when (DatabaseExtensions.IsUnavailable(ex))
        {
            return Problems.Unavailable(context, "The database is unreachable.");
        }
        // Disposed when the response ends, however it ends: also when the stream below never runs.
        context.Response.RegisterForDisposeAsync(export);
        context.Response.Headers.ContentDisposition = "attachment; filename=\"clicks.csv\"";
        return TypedResults.Stream(async body =>
        {
            try
            {
                await ClickCsv.WriteAsync(export.RowsAsync(ct), body, context.RequestAborted);
            }
            catch (Exception) when (!context.RequestAborted.IsCancellationRequested)
            {
                // The status is sent: only a broken connection tells the client the file is not whole.
                // Ended normally, the response would hand it the rows so far as if they were all.
                context.Abort();
                throw;
            }
        }, ClickCsv.ContentType);
    }

    private static ValidationProblem Invalid(ValidationErrors errors) =>
        TypedResults.ValidationProblem(errors.ByField, title: "The clicks query is invalid.");
}
