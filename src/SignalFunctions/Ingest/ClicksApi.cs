using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using SignalFunctions.Guard;
using SignalFunctions.Stages;

namespace SignalFunctions.Ingest;

/// <summary>Click tracking: record a click, append to its chronology, and the signed qualification webhook.</summary>
public static class ClicksApi
{
    public const string SignatureHeader = "X-Signature";

    public static async Task<Results<Accepted<ClickReceipt>, ValidationProblem, ProblemHttpResult>> PostClick(
        HttpContext context, ClickWriter writer, IngestMeter meter, IOptions<IngestOptions> options, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (body, problem) = await IngestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (click, errors) = ClickRequests.ParseRecord(body!.Bytes);
        if (click is null)
        {
            return Problems.Validation(errors.ByField);
        }
        return await WriteAsync(context, options.Value, meter, started, async () => TypedResults.Accepted((string?)null, await writer.RecordAsync(click, ct)));
    }

    public static async Task<Results<Accepted<ClickEventReceipt>, ValidationProblem, ProblemHttpResult>> PostClickEvent(
        string clickId, HttpContext context, ClickWriter writer, IngestMeter meter, IOptions<IngestOptions> options, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (!ClickRequests.IsValidClickId(clickId))
        {
            return Problems.Validation(new() { ["click_id"] = ["may contain only letters, digits and . _ ~ - (1 to 255 characters)"] });
        }
        var (body, problem) = await IngestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (clickEvent, errors) = ClickRequests.ParseEvent(body!.Bytes);
        if (clickEvent is null)
        {
            return Problems.Validation(errors.ByField);
        }
        return await WriteAsync<ClickEventReceipt>(context, options.Value, meter, started, async () =>
            await writer.AddEventAsync(clickId, clickEvent, ct) is { } receipt
                ? TypedResults.Accepted((string?)null, receipt)
                : Problems.NotFound($"No click '{clickId}'. Record it first with POST /api/clicks."));
    }

    public static async Task<Results<Accepted<ClickEventReceipt>, ValidationProblem, ProblemHttpResult>> PostWebhook(
        HttpContext context, ClickWriter writer, IngestMeter meter, IOptions<IngestOptions> options, IOptions<ClickOptions> clickOptions, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var secret = clickOptions.Value.WebhookSecret;
        if (string.IsNullOrEmpty(secret))
        {
            return Problems.Unavailable(context, 60, "The webhook is not configured: set Clicks__WebhookSecret on the app.");
        }
        var (body, problem) = await IngestBody.ReadAsync(context.Request, options.Value.MaxBodyBytes, ct);
        if (problem is not null)
        {
            return problem;
        }
        // Verify before parsing: an unsigned body is not even read as JSON.
        if (!HasValidSignature(context.Request.Headers[SignatureHeader], body!.Bytes.Span, secret))
        {
            return Problems.Unauthorized($"Missing or invalid {SignatureHeader} header: send 'sha256=' and the hex HMAC-SHA256 of the raw body under the shared secret.");
        }
        var (status, errors) = ClickRequests.ParseStatus(body.Bytes);
        if (status is null)
        {
            return Problems.Validation(errors.ByField);
        }
        return await WriteAsync<ClickEventReceipt>(context, options.Value, meter, started, async () =>
            await writer.UpdateStatusAsync(status, ct) is { } receipt
                ? TypedResults.Accepted((string?)null, receipt)
                : Problems.NotFound($"No click '{status.ClickId}'."));
    }

    public static string Sign(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static bool HasValidSignature(string? header, ReadOnlySpan<byte> body, string secret)
    {
        if (header is null || !header.StartsWith("sha256=", StringComparison.Ordinal))
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Sign(body, secret));
        var given = Encoding.ASCII.GetBytes(header.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>Writes, and counts the answer and its latency (from the request's start) toward the guard's judgement of the click-events stage.</summary>
    private static async Task<Results<Accepted<T>, ValidationProblem, ProblemHttpResult>> WriteAsync<T>(
        HttpContext context, IngestOptions options, IngestMeter meter, long started, Func<Task<Results<Accepted<T>, ValidationProblem, ProblemHttpResult>>> write)
    {
        Results<Accepted<T>, ValidationProblem, ProblemHttpResult> result;
        try
        {
            result = await write();
        }
        catch (Exception ex) when (ex is DatabaseUnavailableException or FlagsUnavailableException)
        {
            result = Problems.Unavailable(context, options.RetryAfterSeconds, ex.Message);
        }
        catch (PostgresException ex)
        {
            result = Problems.WriteFailed($"{ex.SqlState}: {ex.MessageText}");
        }
        meter.Answered(KnownMigrations.ClickEvents, result.Result, started);
        return result;
    }

    private static async Task<Results<Accepted<ClickReceipt>, ValidationProblem, ProblemHttpResult>> WriteAsync(
        HttpContext context, IngestOptions options, IngestMeter meter, long started, Func<Task<Accepted<ClickReceipt>>> write) =>
        await WriteAsync<ClickReceipt>(context, options, meter, started, async () => await write());
}
