namespace SignalFunctions.Migrations;

/// <summary>
/// A relation readers of the new side read, kept up to date by refreshing rather than by writes:
/// a materialized view (the engine refreshes it whole, CONCURRENTLY, so it needs a unique index),
/// or a rollup table maintained like one by the <see cref="Views.IViewRefresher"/> registered for
/// its name. The RefreshViews timer refreshes every declared view; the gate past shadow wants each
/// refreshed after the last backfill batch.
/// </summary>
public sealed record DeclaredView(string Name, ViewKind Kind = ViewKind.MaterializedView);
