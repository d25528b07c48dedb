using SignalFunctions.Migrations;

namespace SignalFunctions.Views;

/// <summary>Refreshes one declared rollup (<see cref="ViewKind.Rollup"/>): registered once per view name, found by it.</summary>
public interface IViewRefresher
{
    string View { get; }

    /// <param name="full">Recompute everything rather than what changed, where the refresher tells the two apart.</param>
    Task<ViewRefreshResult> RefreshAsync(bool full, CancellationToken ct);
}
