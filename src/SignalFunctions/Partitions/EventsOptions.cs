using System.ComponentModel.DataAnnotations;

namespace SignalFunctions.Partitions;

/// <summary>Settings under "Events:" (environment: Events__Name) for signal_events' partitions.</summary>
public sealed class EventsOptions
{
    /// <summary>
    /// Months per partition, aligned to the calendar year so every instance cuts the same bounds.
    /// A change applies to partitions made from then on; existing ones keep their bounds.
    /// </summary>
    [AllowedValues(1, 2, 3, 4, 6, 12, ErrorMessage = "Events:PartitionMonths must be 1, 2, 3, 4, 6 or 12 (a divisor of a year).")]
    public int PartitionMonths { get; set; } = 1;

    /// <summary>Partitions kept ready beyond the one holding now.</summary>
    [Range(1, 24)]
    public int PartitionsAhead { get; set; } = 3;
}
