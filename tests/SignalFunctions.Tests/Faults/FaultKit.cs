using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using SignalFunctions.Hosting;
using SignalFunctions.Tests.Infrastructure;

namespace SignalFunctions.Tests.Faults;

/// <summary>What the fault and hostile-input tests share: proving nothing was written, and waiting on the app.</summary>
internal static class FaultKit
{
    /// <summary>
    /// Every row the ingest functions can write or change, as one value: counts and an md5 of the rows
    /// of each table. Equal before and after a request means the request wrote nothing, not even an
    /// update of a click's date_updated or a repair entry.
    /// </summary>
    public static Task<string> FingerprintAsync(this TestDatabase db) => db.ScalarAsync<string>("""
        SELECT concat_ws(' | ',
          (SELECT 'legacy ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '-') FROM blog_attribution_events t),
          (SELECT 'new ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '-') FROM signal_events t),
          (SELECT 'repair ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '-') FROM repair_entries t),
          (SELECT 'clicks ' || count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '-') FROM cuft_click_tracking t))
        """);

    /// <summary>Sends one request and asserts its status, and that the database is exactly as it was before.</summary>
    public static async Task<HttpResponseMessage> AssertWritesNothingAsync(
        this TestDatabase db, HttpStatusCode expected, Func<Task<HttpResponseMessage>> send)
    {
        var before = await db.FingerprintAsync();
        var response = await send();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal(before, await db.FingerprintAsync());
        return response;
    }

    /// <summary>The problem+json body of an error answer; every error of every endpoint has one.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The field paths named by a 400's "errors".</summary>
    public static async Task<string[]> ErrorFieldsAsync(this HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        return problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public static HttpRequestMessage Post(string path, string body, string? contentType = "application/json", string? origin = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(this AppProcess app, HttpRequestMessage request)
    {
        using (request)
        {
            return await app.Client.SendAsync(request);
        }
    }

    /// <summary>GET /api/health/details whatever its status (a 503 still carries the report).</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Report)> HealthReportAsync(this AppProcess app)
    {
        using var response = await app.Client.GetAsync("/api/health/details");
        return (response.StatusCode, await response.JsonAsync());
    }

    /// <summary>A repair run through the ops verb, as an operator would: `SignalFunctions repair MIGRATION`.</summary>
    public static async Task<(int ExitCode, string Output)> RunRepairVerbAsync(string connectionString, string migration)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(Repo.AppDll)!,
        };
        start.ArgumentList.Add(Repo.AppDll);
        start.ArgumentList.Add("repair");
        start.ArgumentList.Add(migration);
        start.Environment["ConnectionStrings__Signal"] = connectionString;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"repair {migration} did not finish within 60 s: {await output}{await error}");
        }
        return (process.ExitCode, await output + await error);
    }

    /// <summary>An outer bound on each fault test; each also bounds its own load and waits well within it.</summary>
    public const int TestTimeoutMs = 120_000;

    /// <summary>Settings that keep the in-process repair timer from running during a test (it would race the test's own run).</summary>
    public const string NeverSchedule = "0 0 0 29 2 *";

    /// <summary>Settings that keep every timer from running: only the test's own work touches the database.</summary>
    public static Dictionary<string, string> TimersOff() =>
        TimerFunctions.Names.ToDictionary(name => $"{name}Schedule", _ => NeverSchedule);
}
