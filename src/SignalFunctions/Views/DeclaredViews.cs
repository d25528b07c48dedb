using System.Diagnostics;
using System.Globalization;
using Dapper;
using Npgsql;
using SignalFunctions.Hosting;
using SignalFunctions.Migrations;

namespace SignalFunctions.Views;

/// <summary>
/// Every view the migrations declare (<see cref="DataMigration.Views"/>), refreshed the same way by
/// the RefreshViews timer and `refresh-views`: a materialized view whole and CONCURRENTLY (readers
/// never blocked), a rollup by its registered <see cref="IViewRefresher"/>. Each refresh records
/// refreshed_at in view_refreshes, which the gate past shadow compares with the last backfill batch.
/// </summary>
public sealed partial class DeclaredViews(NpgsqlDataSource dataSource, IEnumerable<IViewRefresher> refreshers, ILogger<DeclaredViews> logger)
{
    /// <summary>Each declared view once, in catalog order.</summary>
    public static IReadOnlyList<DeclaredView> All { get; } = MigrationCatalog.All.SelectMany(m => m.Views).DistinctBy(v => v.Name).ToList();

    /// <summary>The RefreshViews timer: one summary line per view. One view's failure is logged and the others still refresh.</summary>
    public static async Task<TimerOutcome> RunTimerAsync(IServiceProvider services, CancellationToken ct) =>
        new((await services.GetRequiredService<DeclaredViews>().RefreshAllAsync(full: false, ct)).Select(r => $"RefreshViews {r.Summary}").ToList());

    public async Task<IReadOnlyList<ViewRefreshResult>> RefreshAllAsync(bool full, CancellationToken ct)
    {
        var results = new List<ViewRefreshResult>();
        var failed = new List<string>();
        foreach (var view in All)
        {
            try
            {
                results.Add(await RefreshAsync(view, full, ct));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                LogFailed(ex, view.Name);
                failed.Add($"{view.Name}: {ex.Message}");
            }
        }
        if (failed.Count > 0)
        {
            // After the others had their turn: the run fails visibly, naming each view that did not refresh.
            throw new InvalidOperationException($"Refreshing views failed: {string.Join("; ", failed)}");
        }
        return results;
    }

    public Task<ViewRefreshResult> RefreshAsync(DeclaredView view, bool full, CancellationToken ct) => view.Kind switch
    {
        ViewKind.Rollup => (refreshers.FirstOrDefault(r => r.View == view.Name)
                            ?? throw new InvalidOperationException($"The rollup {view.Name} is declared, but no IViewRefresher is registered for it."))
            .RefreshAsync(full, ct),
        _ => RefreshMaterializedAsync(view.Name, ct),
    };

    /// <summary>REFRESH … CONCURRENTLY: computes aside and applies the difference; readers see the old rows until it commits.</summary>
    private async Task<ViewRefreshResult> RefreshMaterializedAsync(string view, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var jobLock = await JobLock.TryTakeAsync(connection, "refresh-views", view, ct);
        if (jobLock is null)
        {
            return new ViewRefreshResult(view, true, $"{view}: skipped, another refresh holds the lock", watch.Elapsed);
        }
        // refreshed_at is the refresh's start: a write committed after it may be missing from the view.
        var startedAt = await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("SELECT now()", cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition($"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}", commandTimeout: 0, cancellationToken: ct));
        var rows = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM {view}", cancellationToken: ct));
        var summary = string.Create(CultureInfo.InvariantCulture, $"{view}: refreshed concurrently, {rows:N0} rows, in {watch.Elapsed.TotalMilliseconds:0} ms");
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO view_refreshes (view_name, needs_full, refreshed_at, last_full_at, last_summary)
            VALUES (@view, false, @startedAt, @startedAt, @summary)
            ON CONFLICT (view_name) DO UPDATE
              SET refreshed_at = EXCLUDED.refreshed_at, last_full_at = EXCLUDED.last_full_at, last_summary = EXCLUDED.last_summary
            """, new { view, startedAt, summary }, cancellationToken: ct));
        LogRefreshed(summary);
        return new ViewRefreshResult(view, false, summary, watch.Elapsed);
    }

    /// <summary>
    /// The declared views of <paramref name="m"/> not refreshed since its last backfill batch (or
    /// never): readers of the new side would see a view without the rows just backfilled.
    /// </summary>
    public static async Task<IReadOnlyList<string>> StaleAsync(NpgsqlConnection connection, DataMigration m, CancellationToken ct) =>
        m.Views.Count == 0 ? [] : (await connection.QueryAsync<string>(new CommandDefinition("""
            SELECT v.name
              FROM unnest(@views) WITH ORDINALITY AS v (name, n)
              LEFT JOIN view_refreshes r ON r.view_name = v.name
             WHERE r.refreshed_at IS NULL
                OR r.refreshed_at < (SELECT last_batch_at FROM backfill_progress WHERE migration = @migration)
             ORDER BY v.n
            """, new { views = m.Views.Select(v => v.Name).ToArray(), migration = m.Name }, cancellationToken: ct))).ToList();

    [LoggerMessage(Level = LogLevel.Information, Message = "Refreshed {Summary}")]
    private partial void LogRefreshed(string summary);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refreshing the view {View} failed; the other views still refresh")]
    private partial void LogFailed(Exception exception, string view);
}
