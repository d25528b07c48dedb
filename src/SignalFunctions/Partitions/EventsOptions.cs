using System.ComponentModel.DataAnnotations;

namespace SignalFunctions.Partitions;

/// <summary>Settings under "Events:" (environment: Events__Name) for signal_events' partitions.</summary>
public sealed class EventsOptions
{
    /// <summary>Monthly partitions kept ready beyond the current month.</summary>
    [Range(1, 24)]
    public int PartitionsAhead { get; set; } = 3;
}
