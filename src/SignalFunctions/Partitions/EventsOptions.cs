using System.ComponentModel.DataAnnotations;

namespace SignalFunctions.Partitions;

/// <summary>Settings under "Events:" (environment: Events__Name) for signal_events' partitions.</summary>
public sealed class EventsOptions : IValidatableObject
{
    public const string Archive = "archive";
    public const string Drop = "drop";

    /// <summary>
    /// Months per partition, aligned to the calendar year so every instance cuts the same bounds.
    /// A change applies to partitions made from then on; existing ones keep their bounds.
    /// </summary>
    [AllowedValues(1, 2, 3, 4, 6, 12, ErrorMessage = "Events:PartitionMonths must be 1, 2, 3, 4, 6 or 12 (a divisor of a year).")]
    public int PartitionMonths { get; set; } = 1;

    /// <summary>Partitions kept ready beyond the one holding now.</summary>
    [Range(1, 24)]
    public int PartitionsAhead { get; set; } = 3;

    /// <summary>
    /// Whole months of events kept before this one; a partition ending on or before the start of
    /// this UTC month minus these months is retired. 0 keeps everything.
    /// </summary>
    [Range(0, 1200)]
    public int RetentionMonths { get; set; }

    /// <summary>What retiring a partition does: export it to ArchiveDirectory first, or only drop it.</summary>
    [AllowedValues(Archive, Drop, ErrorMessage = "Events:RetentionAction must be archive or drop.")]
    public string RetentionAction { get; set; } = Archive;

    /// <summary>
    /// Where archives are written (a durable mount in Azure: an instance's own disk is ephemeral).
    /// Empty: with the archive action the timer only reports the partitions due.
    /// </summary>
    public string ArchiveDirectory { get; set; } = "";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // The API takes events up to 30 days old, which early in a month reach the month before
        // last: with one month kept, such an event would land in a partition already retired.
        if (RetentionMonths == 1)
        {
            yield return new ValidationResult(
                "Events:RetentionMonths must be 0 (keep every partition) or at least 2: the API accepts events up to 30 days old, which early in a month fall in the month before last.",
                [nameof(RetentionMonths)]);
        }
    }
}
