using System.ComponentModel.DataAnnotations;

namespace SignalFunctions.Views;

/// <summary>Settings under "Views:" for the rollup refresh.</summary>
public sealed class ViewOptions
{
    /// <summary>
    /// How far before the watermark an incremental run reads again. The watermark is already held
    /// back to the oldest open transaction; this covers clock steps and the instant between a
    /// transaction's start and its appearance in pg_stat_activity.
    /// </summary>
    [Range(0, 3600)]
    public int OverlapSeconds { get; set; } = 10;

    /// <summary>
    /// A run does a full refresh when the last one is older than this (hours), as a safety net for
    /// writers outside the app's assumptions (an explicit recorded_at). 0: only when needed.
    /// </summary>
    [Range(0, 8760)]
    public int FullRefreshHours { get; set; } = 24;

    /// <summary>work_mem for the refresh transaction: the full refresh hashes every journey-day.</summary>
    [Range(4, 4096)]
    public int WorkMemMegabytes { get; set; } = 64;
}
