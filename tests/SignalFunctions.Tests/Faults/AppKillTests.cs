using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using SignalFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SignalFunctions.Tests.Faults;

/// <summary>The app killed with SIGKILL under load: a 202 is a promise the database keeps.</summary>
public sealed class AppKillTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Senders = 16;
    private static readonly TimeSpan LoadLimit = TimeSpan.FromSeconds(5);

    private TestDatabase _db = null!;

    // Every request of the load comes from 127.0.0.1: the per-IP limit would only test itself.
    private static readonly Dictionary<string, string> Settings = new() { ["Ingest__RateLimitPerSecond"] = "0" };

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        await _db.SetStageAsync("signal-events", "dual_write");
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();

    [Fact(Timeout = FaultKit.TestTimeoutMs)]
    public async Task Every_event_answered_202_survives_a_sigkill_mid_load()
    {
        var app = await AppProcess.StartAsync(_db.ConnectionString, Settings);
        var sent = new ConcurrentDictionary<Guid, string>();
        var acknowledged = new ConcurrentDictionary<Guid, byte>();
        var unexpected = new ConcurrentQueue<string>();
        var killed = 0;
        var cutOff = 0;
        var refused = 0;
        using var client = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var stop = new CancellationTokenSource(LoadLimit);

        async Task SendUntilKilledAsync(int sender)
        {
            var random = new Random(sender);
            while (!stop.IsCancellationRequested)
            {
                // Mostly single events, as browsers send them; some small batches.
                var events = Enumerable.Range(0, random.Next(4) == 0 ? random.Next(2, 8) : 1).Select(_ => Events.Signal()).ToList();
                var ids = events.Select(e => (Guid)e["id"]!).ToList();
                events.ForEach(e => sent.TryAdd((Guid)e["id"]!, (string)e["session_id"]!));
                var body = events.Count == 1 ? Events.Json(events[0]) : Events.Json(events);
                try
                {
                    using var response = await client.PostAsync("/api/signal/events", new StringContent(body, Encoding.UTF8, "application/json"), stop.Token);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        ids.ForEach(id => acknowledged.TryAdd(id, 0));
                    }
                    else
                    {
                        unexpected.Enqueue($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                {
                    if (Volatile.Read(ref killed) == 0 && !stop.IsCancellationRequested)
                    {
                        unexpected.Enqueue($"before the kill: {ex.Message}");
                    }
                    // Refused: the process was already gone. Otherwise the request was in flight when the
                    // process died and its answer is lost: its events may or may not be in the database.
                    Interlocked.Increment(ref ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } ? ref refused : ref cutOff);
                    return;
                }
            }
        }

        var watch = Stopwatch.StartNew();
        var load = Enumerable.Range(0, Senders).Select(i => Task.Run(() => SendUntilKilledAsync(i))).ToArray();
        // Partway: once a good share of events has been acknowledged, or at a third of the time limit.
        while (acknowledged.Count < 1500 && watch.Elapsed < LoadLimit / 3)
        {
            await Task.Delay(20);
        }
        Interlocked.Exchange(ref killed, 1);
        app.Kill();
        var killedAt = watch.Elapsed;
        await Task.WhenAll(load);
        await app.DisposeAsync();

        Assert.Empty(unexpected);
        var legacyRows = (await _db.QueryAsync<(Guid Id, string Session)>("SELECT id, session_id FROM blog_attribution_events")).ToList();
        var newRows = (await _db.QueryAsync<(Guid Id, string Session)>("SELECT id, session_id FROM signal_events")).ToList();
        var legacy = legacyRows.Select(r => r.Id).ToHashSet();
        var @new = newRows.Select(r => r.Id).ToHashSet();
        output.WriteLine($"killed at {killedAt.TotalSeconds:F2} s: {sent.Count} events sent, {acknowledged.Count} acknowledged, " +
                         $"{cutOff} requests cut off in flight, {refused} refused after, {legacy.Count} rows on each side afterwards");

        Assert.True(acknowledged.Count >= 100, $"only {acknowledged.Count} events were acknowledged before the kill: not a load");
        Assert.True(cutOff > 0, "no request was in flight at the kill: it did not happen mid-load");
        // The promise: every 202 is in the database, on both sides (dual_write, nothing failing).
        AssertNone(acknowledged.Keys.Where(id => !legacy.Contains(id)), "acknowledged events missing from blog_attribution_events");
        AssertNone(acknowledged.Keys.Where(id => !@new.Contains(id)), "acknowledged events missing from signal_events");
        // Nothing invented, and the two sides of one transaction are never torn apart.
        AssertNone(legacy.Where(id => !sent.ContainsKey(id)), "rows that no request sent");
        Assert.True(legacy.SetEquals(@new), "a kill split the legacy and new writes of one transaction");
        // And each row is the event that was sent under its id.
        AssertNone(legacyRows.Concat(newRows).Where(r => sent[r.Id] != r.Session).Select(r => r.Id), "rows whose content is not what was sent");
        Assert.Equal(0L, await _db.ScalarAsync<long>("SELECT count(*) FROM repair_entries"));

        // A new process on the same database serves at once.
        await using var restarted = await AppProcess.StartAsync(_db.ConnectionString, Settings);
        var (status, report) = await restarted.HealthReportAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("dual_write", report.GetProperty("flags").GetProperty("stages").GetProperty("signal-events").GetProperty("stage").GetString());
        var after = Events.Signal();
        using var accepted = await restarted.PostJsonAsync("/api/signal/events", Events.Json(after));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(2L, await _db.ScalarAsync<long>(
            "SELECT (SELECT count(*) FROM signal_events WHERE id = @id) + (SELECT count(*) FROM blog_attribution_events WHERE id = @id)",
            new { id = (Guid)after["id"]! }));
    }

    private static void AssertNone(IEnumerable<Guid> ids, string what)
    {
        var list = ids.ToList();
        Assert.True(list.Count == 0, $"{list.Count} {what}, e.g. {string.Join(", ", list.Take(3))}");
    }
}
