using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using SignalFunctions.Flags.AppConfiguration;
using SignalFunctions.Ingest;

namespace SignalFunctions.Flags;

/// <summary>
/// POST /api/flags/changed: the Event Grid webhook App Configuration pushes key-value changes to,
/// so a stage change reaches every instance without waiting for a poll. It answers the subscription validation handshake, and on a change to one
/// of our flags or settings wakes the refresh loop at once, handing it the event's Sync-Token.
/// Behind a function key in Azure (the subscription's endpoint URL carries ?code=…).
/// </summary>
public static partial class FlagsApi
{
    // Event Grid delivers at most 1 MB per batch.
    private const int MaxBodyBytes = 1024 * 1024;

    public sealed record ValidationAnswer([property: JsonPropertyName("validationResponse")] string ValidationResponse);

    /// <summary>Refresh: whether a refresh was started; Events: the key-value events that concern this app.</summary>
    public sealed record ChangeAnswer(bool Refresh, int Events, int Ignored);

    public static async Task<Results<Ok<ValidationAnswer>, Accepted<ChangeAnswer>, Ok<ChangeAnswer>, ProblemHttpResult>> PostChanged(
        HttpContext context, ILoggerFactory loggers, CancellationToken ct)
    {
        var (body, problem) = await IngestBody.ReadAsync(context.Request, MaxBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }
        EventGridDelivery delivery;
        try
        {
            delivery = EventGridDelivery.Parse(body!.Bytes, context.Request.Headers[EventGridDelivery.EventTypeHeader].FirstOrDefault());
        }
        catch (EventGridFormatException ex)
        {
            return Problems.BadRequest(ex.Field, ex.Reason);
        }
        var logger = loggers.CreateLogger(typeof(FlagsApi));
        if (delivery.ValidationCode is { } code)
        {
            LogValidated(logger);
            return TypedResults.Ok(new ValidationAnswer(code));
        }

        // Only in App Configuration mode is there anything to refresh.
        var services = context.RequestServices;
        if (services.GetService<AppConfigurationFlagStore>() is not { } store || services.GetService<FlagRefreshTrigger>() is not { } trigger)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "App Configuration is not configured",
                detail: "This app keeps its flags in the embedded store (PostgreSQL); set AppConfig__ConnectionString or AppConfig__Endpoint, or remove the Event Grid subscription.");
        }
        var ours = delivery.Changes.Where(change => Concerns(store, change)).ToList();
        if (ours.Count == 0)
        {
            return TypedResults.Ok(new ChangeAnswer(false, 0, delivery.Changes.Count + delivery.Ignored));
        }
        await trigger.PublishAsync(ours.Select(change => change.SyncToken).OfType<string>().ToList(), ct);
        LogPushed(logger, ours.Count, ours[0].Key);
        return TypedResults.Accepted((string?)null, new ChangeAnswer(true, ours.Count, delivery.Changes.Count - ours.Count + delivery.Ignored));
    }

    /// <summary>A stage flag or a SignalFunctions: setting, under the label this app reads.</summary>
    private static bool Concerns(AppConfigurationFlagStore store, KeyValueChange change) =>
        (StageFeatureFlag.Migration(change.Key) is not null || change.Key.StartsWith(AppConfigurationFlagStore.SettingsPrefix, StringComparison.Ordinal))
        && string.Equals(string.IsNullOrEmpty(change.Label) ? null : change.Label, store.Label, StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Information, Message = "Answered the Event Grid subscription validation handshake")]
    private static partial void LogValidated(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event Grid: {Count} flag change(s), e.g. {Key}; refreshing now")]
    private static partial void LogPushed(ILogger logger, int count, string key);
}
